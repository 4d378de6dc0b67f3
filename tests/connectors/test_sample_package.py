"""A third-party connector package, built and installed into the venv, is found through its entry point.

tests/connector_sample is what an agency's developers would publish: its own pyproject, a
connector class, an entry point, and tests that use only the kit's fixtures. It is built
into a wheel from a copy in a temporary folder and installed like any package, once: later
runs find it installed and unchanged and skip the build. Everything after the install
runs in fresh interpreters whose working folder is outside the repository, so nothing is
found by accident through the repository on sys.path.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "connector_sample"
DIST = "panjereh-sample-connector"
PACKAGE = "panjereh_sample_connector"


def _installed_and_current() -> bool:
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        return False
    project = tomllib.loads((SAMPLE / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"]["panjereh.connectors"]
    registered = {ep.name: ep.value for ep in dist.entry_points if ep.group == "panjereh.connectors"}
    if dist.version != project["version"] or registered != declared:
        return False
    for source in (SAMPLE / PACKAGE).glob("*.py"):
        installed = Path(str(dist.locate_file(source.relative_to(SAMPLE))))
        if not installed.is_file() or installed.read_bytes() != source.read_bytes():
            return False
    return True


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def sample_installed(tmp_path_factory) -> None:
    """The sample connector installed in this venv, as its current sources."""
    # Two suites running at once (two engineers, one venv) must not install over each other.
    with open(Path(sys.prefix) / ".panjereh-sample-connector.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed_and_current():
            work = tmp_path_factory.mktemp("sample-build")
            source = work / "source"
            shutil.copytree(SAMPLE, source, ignore=shutil.ignore_patterns(
                "__pycache__", "*.egg-info", "build", ".pytest_cache", "conftest.py", "tests"))
            _pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(work / "wheels"), str(source))
            [wheel] = (work / "wheels").glob("*.whl")
            _pip("install", "--no-deps", "--force-reinstall", str(wheel))
        assert _installed_and_current()


def _outside_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run_outside(code: str, cwd: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=_outside_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


DISCOVER = """
import json
from importlib.metadata import EntryPoint, entry_points
from connectors.registry import GROUP, load_registry

def seen(registry):
    return {"connectors": sorted(registry.connectors), "operations": sorted(registry.operations),
            "problems": registry.problems, "excluded": registry.excluded}

everything = load_registry()
ghost = EntryPoint("ghost_office", "panjereh_ghost_office:GhostOffice", GROUP)
print(json.dumps({
    "all": seen(everything),
    "module": __import__("panjereh_sample_connector").__file__,
    "allowed": seen(load_registry(allow=["weather_office"])),
    "denied": seen(load_registry(deny=["weather_office"])),
    "with_broken": seen(load_registry(entry_points=[*entry_points(group=GROUP), ghost])),
    "result": everything.get("weather_office/forecast").params_schema()["required"],
}))
"""


def test_the_installed_package_is_discovered_from_outside_the_repo(sample_installed, tmp_path):
    seen = _run_outside(DISCOVER, cwd=tmp_path)

    assert "weather_office/forecast" in seen["all"]["operations"]
    assert not any(p.startswith("weather_office") for p in seen["all"]["problems"])
    module = Path(seen["module"]).resolve()
    assert SAMPLE not in module.parents and "site-packages" in module.parts, (
        f"imported from the sample's sources, not the installed package: {module}")
    assert seen["result"] == ["city"]

    assert seen["allowed"]["connectors"] == ["weather_office"]
    assert seen["allowed"]["operations"] == ["weather_office/forecast"]
    assert "weather_office" in seen["denied"]["excluded"]
    assert not any(op.startswith("weather_office/") for op in seen["denied"]["operations"])

    broken = seen["with_broken"]
    assert "weather_office/forecast" in broken["operations"]
    assert "ghost_office" not in broken["connectors"]
    assert any(p.startswith("ghost_office: cannot be imported from panjereh_ghost_office:GhostOffice")
               for p in broken["problems"])


def test_the_authors_own_tests_pass_with_the_kit_alone(sample_installed, tmp_path):
    # Copied without conftest.py: the author's suite has none, the kit comes in through pytest11.
    shutil.copytree(SAMPLE / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "tests"],
                          cwd=tmp_path, env=_outside_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 passed" in done.stdout
