"""`panjereh serve` as a real process of its own, which a test can SIGKILL and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from engine.settings import Settings
from tests.fixtures import ADMIN_TOKEN, ROOT


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-6000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, as when the machine loses power to the process."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def environment(settings: Settings) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    return {**inherited, "PYTHONUNBUFFERED": "1", "PANJEREH_DATABASE_URL": settings.effective_database_url,
            "PANJEREH_VAR_DIR": str(settings.var_dir), "PANJEREH_ADMIN_TOKEN": ADMIN_TOKEN,
            "PANJEREH_DEPLOY_PROCESSES_ON_START": "false", "PANJEREH_SANDBOX": "false",
            "PANJEREH_PUBLIC_URL": settings.public_url}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server_process(settings: Settings, directory: Path, name: str) -> Iterator[ServerProcess]:
    """Start `panjereh serve` on a free port and wait until it answers; stop it afterwards."""
    port = _free_port()
    log_path = directory / f"{name}.log"
    with log_path.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=environment(settings), stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the server exited with {process.returncode}\n{server.log()}"
            with suppress(httpx.TransportError):
                if httpx.get(f"{server.url}/api/v1/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the server did not answer within 60 s\n{server.log()}"
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def audit_verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    """`panjereh audit verify` against the same database, as an operator would run it."""
    return subprocess.run([sys.executable, "-m", "engine.cli", "audit", "verify"], cwd=ROOT,
                          env=environment(settings), capture_output=True, text=True, timeout=120, check=False)
