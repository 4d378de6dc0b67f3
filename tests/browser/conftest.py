"""A real server, Debian's Chromium and axe-core for the browser tests.

Chromium is `/usr/bin/chromium` from Debian (`apt-get install chromium`; `.ci/run` installs it):
Playwright only drives it and never downloads a browser of its own. axe-core comes from the npm
registry at test time (`npm pack axe-core@4`) into the pytest cache, so it is never committed.
Without Chromium, Playwright, npm or axe-core the tests skip locally and fail when `CI` is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import ROOT
from tests.payments.server import own_address_settings, running

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
AXE_PACKAGE = "axe-core@4"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def unavailable(reason: str) -> NoReturn:
    """Skip on a developer's machine without the tool; in CI a missing tool is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is missing: pip install -e .[dev]")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _axe_cache(config: pytest.Config) -> Path:
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("axe-core"))
    folder = ROOT / "var" / "axe-core"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def axe_script(pytestconfig: pytest.Config) -> Path:
    """`axe.min.js` from the npm registry, fetched once into the pytest cache and reused."""
    target = _axe_cache(pytestconfig) / "axe.min.js"
    if target.exists() and target.stat().st_size > 100_000:
        return target
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is missing: it fetches axe-core for the accessibility checks")
    with tempfile.TemporaryDirectory() as scratch:
        packed = subprocess.run([npm, "pack", AXE_PACKAGE, "--silent", "--pack-destination", scratch],
                                capture_output=True, text=True, timeout=180, check=False)
        tarballs = sorted(Path(scratch).glob("axe-core-*.tgz"))
        if packed.returncode != 0 or not tarballs:
            unavailable(f"npm pack {AXE_PACKAGE} failed: {packed.stderr.strip()[-500:]}")
        with tarfile.open(tarballs[-1]) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None, "the axe-core package has no axe.min.js"
            script = member.read()
        # Write then rename, so a run stopped half-way never leaves a truncated script behind.
        partial = target.with_suffix(".partial")
        partial.write_bytes(script)
        partial.replace(target)
        (target.parent / "VERSION").write_text(tarballs[-1].stem.removeprefix("axe-core-") + "\n")
    return target


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool) -> Settings:
    """As `panjereh serve` runs: the server's own address is the public one, where the simulated
    agencies answer and the payment gateway sends the browser back."""
    return own_address_settings(tmp_path, pg_ready)


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """The whole application on a free loopback port, with the service catalogue deployed."""
    with running(runtime, tokens=False) as served:
        yield served.url


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder of this run's screenshots (git ignores it), emptied of an earlier run's."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS
