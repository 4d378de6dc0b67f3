"""Sandbox servers over real HTTP: uvicorn in a thread on a free 127.0.0.1 port, as in tests/api."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from connectors.simulators import Behaviour, SandboxSettings, create_sandbox_app

SMS_AUTH = {"Authorization": "Bearer sandbox-sms-key"}
Serve = Callable[..., str]


def quiet(**overrides: Any) -> SandboxSettings:
    """Default behaviour without latency, every field given so no PANJEREH_SANDBOX_* variable leaks in."""
    return SandboxSettings(**{**Behaviour(latency_ms=0, jitter_ms=0).model_dump(), **overrides})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Running:
    """One uvicorn server in a daemon thread."""

    def __init__(self, app: FastAPI) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.started, "sandbox did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(autouse=True)
def _no_sandbox_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's PANJEREH_SANDBOX_* must not change what these tests see.
    for name in list(os.environ):
        if name.startswith("PANJEREH_SANDBOX_"):
            monkeypatch.delenv(name)


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start a server for an app (default: the sandbox with `quiet()` settings); returns its base URL."""
    running: list[Running] = []

    def start(settings: SandboxSettings | None = None, app: FastAPI | None = None) -> str:
        running.append(Running(app or create_sandbox_app(settings or quiet())))
        return running[-1].url

    yield start
    for each in running:
        each.stop()


@pytest.fixture
def http(serve: Serve) -> Iterator[httpx.Client]:
    """A client on a fresh sandbox, for tests that change or count state."""
    with httpx.Client(base_url=serve(), timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def shared() -> Iterator[httpx.Client]:
    """A client on a sandbox shared by a module's read-only tests (starting one per test is slow)."""
    running = Running(create_sandbox_app(quiet()))
    with httpx.Client(base_url=running.url, timeout=10) as client:
        yield client
    running.stop()
