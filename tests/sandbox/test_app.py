"""The sandbox as a whole: settings from the environment, embedded under /sandbox, standalone, and apart
from the engine."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from connectors.simulators import Behaviour, SandboxSettings, create_sandbox_app
from tests.sandbox.conftest import Serve, free_port, quiet

ROOT = Path(__file__).resolve().parents[2]
PERSON = "/civil-registry/persons/0013542419"


def test_environment_configures_each_service(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_SANDBOX_LATENCY_MS", "0")
    monkeypatch.setenv("PANJEREH_SANDBOX_JITTER_MS", "0")
    monkeypatch.setenv("PANJEREH_SANDBOX_SERVICES__SMS__FAIL_EVERY", "1")
    monkeypatch.setenv("PANJEREH_SANDBOX_SMS_API_KEY", "from-env")
    settings = SandboxSettings()
    assert settings.behaviour_of("sms") == Behaviour(latency_ms=0, jitter_ms=0, fail_every=1)
    assert settings.behaviour_of("tax") == Behaviour(latency_ms=0, jitter_ms=0)
    with httpx.Client(base_url=serve(app=create_sandbox_app())) as http:
        sent = http.post("/sms/messages", json={"to": "09121234567", "text": "x"},
                         headers={"Authorization": "Bearer from-env"})
        assert sent.status_code == 500 and sent.json()["error"] == "simulated-failure"
        assert http.get(PERSON).status_code == 200


def test_defaults_look_like_a_real_network() -> None:
    behaviour = SandboxSettings().behaviour_of("civil_registry")
    assert (behaviour.latency_ms, behaviour.jitter_ms) == (20, 40)
    assert behaviour.error_rate == 0 and behaviour.fail_every == 0 and not behaviour.down


def test_unknown_services_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown sandbox services"):
        SandboxSettings(services={"weather": Behaviour()})


def test_embedded_under_sandbox(serve: Serve) -> None:
    main = FastAPI()
    main.mount("/sandbox", create_sandbox_app(quiet()))
    with httpx.Client(base_url=serve(app=main)) as http:
        assert http.get(f"/sandbox{PERSON}").json()["first_name"] == "علی"
        assert http.get("/sandbox/sms/messages", headers={"Authorization": "Bearer sandbox-sms-key"}).status_code == 200
        [entry, _] = http.get("/sandbox/_sandbox/log").json()["entries"]
        assert entry["path"] == f"/sandbox{PERSON}"
        assert http.get("/sandbox/civil-registry/openapi.json").json()["info"]["title"] == "Civil registry (sandbox)"


def test_runs_standalone(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PANJEREH_SANDBOX_LATENCY_MS": "0", "PANJEREH_SANDBOX_JITTER_MS": "0"}
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr, subprocess.Popen(
            [sys.executable, "-m", "connectors.simulators", "--port", str(port)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=stderr) as process:
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}{PERSON}")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, errors.read_text()
                    assert time.monotonic() < deadline, "standalone sandbox did not start"
                    time.sleep(0.1)
            assert response.status_code == 200 and response.json()["national_code"] == "0013542419"
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_sandbox_does_not_import_the_engine() -> None:
    for module in (ROOT / "connectors" / "sandbox").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "engine" or n.startswith("engine.") for n in names), module.name
    loaded = subprocess.run([sys.executable, "-c", "import sys, connectors.simulators.app; "
                             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'engine'))"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
