"""`panjereh serve --host --port` calls its own embedded agencies where it actually listens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import ROOT

TOKEN = "serve-address-test-token-0123"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _until(what: str, server: subprocess.Popen[str], check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited while waiting for {what}"
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_on_a_wildcard_address_and_another_port_completes_a_connector_call(
        settings: Settings, runtime: Runtime, tmp_path: Path) -> None:
    """`runtime` empties the shared PostgreSQL database first, as for every test."""
    port = _free_port()
    # Nothing about the address comes from the environment: only the command line says it.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PANJEREH_")}
    environment.update({"PANJEREH_DATABASE_URL": settings.database_url, "PANJEREH_VAR_DIR": str(tmp_path / "var"),
                        "PANJEREH_ADMIN_TOKEN": TOKEN})
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
                              cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, text=True)
    base, admin = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {TOKEN}"}
    try:
        _until("the server to answer", server, lambda: httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200)
        started = httpx.post(f"{base}/api/v1/processes/business_licence/instances", headers=admin, timeout=30,
                             json={"data": {"applicant_national_code": "0013542419"}})
        assert started.status_code == 201, started.text

        def fetched() -> dict[str, Any] | None:
            data: dict[str, Any] = httpx.get(f"{base}/api/v1/instances/{started.json()['id']}", headers=admin,
                                             timeout=5).json()["data"]
            return data if "applicant_name" in data else None

        data = _until("the civil registry's answer", server, fetched, timeout=30)
        assert data["applicant_name"] == "علی رضایی"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
