"""Set-up on a fresh machine with nothing but Python 3.11+: `python3 -m engine.bootstrap CMD`.

`serve` starts the product in embedded mode, `test` runs the whole test suite; anything
else is passed to the `panjereh` command. The first run creates `.venv` and installs the
project into it; later runs reinstall only when pyproject.toml changed. Standard library
only: this runs before any dependency exists.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("PANJEREH_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _stamp(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(extras.encode())
    return digest.hexdigest()


def ensure_venv(extras: str) -> None:
    """Create the venv and install the project (with `extras`) unless already current."""
    if sys.version_info < (3, 11):
        raise SystemExit(f"Panjereh needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp_file = VENV / f".panjereh-installed{extras or '-base'}"
    if stamp_file.exists() and stamp_file.read_text() == _stamp(extras):
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing Panjereh and its dependencies into the venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f".{extras}"], check=True, cwd=ROOT)
    stamp_file.write_text(_stamp(extras))


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("serve", [])
    os.chdir(ROOT)
    if command == "test":
        ensure_venv("[dev]")
        code = subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])
        return code
    ensure_venv("")
    args = ["serve", *rest] if command == "serve" else [command, *rest]
    return subprocess.call([str(BIN / "panjereh"), *args])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
