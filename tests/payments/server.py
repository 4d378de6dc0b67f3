"""The product as `panjereh serve` runs it, on a real port: the portal, the API and the simulated
agencies (the payment gateway among them) under one address, which is also the address the
gateway sends citizens back to. The payment tests and the browser tests run it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.routing import Mount

from connectors.simulators.behaviour import Sandbox
from engine.app import build_app
from engine.security.tokens import create_token
from engine.services.catalogue import deploy_catalogue
from engine.services.dispatch import InlineDispatcher
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT
from tests.web.journey import CITIZEN, MOBILE, csrf, texted_code

OTHER, OTHER_MOBILE = "9876543210", "09351234567"


@dataclass
class Portal:
    url: str
    runtime: Runtime
    sandbox: Sandbox
    tokens: dict[str, str]
    opened: list[httpx.Client] = field(default_factory=list)

    def api(self, role: str = "citizen") -> httpx.Client:
        """An API client with `role`'s token (closed with the server, if not before)."""
        client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[role]}"}, timeout=60)
        self.opened.append(client)
        return client

    def browser(self, national: str = CITIZEN, mobile: str = MOBILE) -> httpx.Client:
        """A signed-in citizen's browser (cookies kept, redirects not followed)."""
        browser = httpx.Client(base_url=self.url, timeout=60)
        self.opened.append(browser)
        page = browser.get("/sign-in")
        code_page = browser.post("/sign-in", data={"csrf_token": csrf(page.text), "national_code": national,
                                                   "mobile": mobile, "next": "/cases"}, follow_redirects=True)
        assert code_page.status_code == 200, code_page.text
        challenge = code_page.text.split('name="challenge" value="', 1)[1].split('"', 1)[0]
        signed = browser.post("/sign-in/code", data={"csrf_token": csrf(code_page.text), "challenge": challenge,
                                                     "code": texted_code(self.runtime, mobile), "next": "/cases"})
        assert signed.status_code == 303, signed.text
        return browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sandbox_of(app: Any) -> Sandbox:
    mounted = next(route.app for route in app.routes if isinstance(route, Mount) and route.path == "/sandbox")
    sandbox: Sandbox = mounted.state.sandbox
    return sandbox


def _tokens(runtime: Runtime) -> dict[str, str]:
    with runtime.unit_of_work() as session:
        return {"admin": ADMIN_TOKEN, "citizen": create_token(session, "citizen", CITIZEN),
                "other_citizen": create_token(session, "citizen", OTHER),
                # Named apart from tests.fixtures' tokens, which a test may hold too.
                "staff_guild": create_token(session, "staff", "portal-clerk", "guild_union"),
                "staff_municipality": create_token(session, "staff", "portal-inspector", "municipality")}


def own_address_settings(tmp_path: Path, pg_ready: bool) -> Settings:
    """The suite's settings, but with the server's own address as the public one (the gateway sends
    citizens back to it, and connectors find the simulated agencies under it, as in `panjereh serve`)."""
    return Settings(var_dir=tmp_path / "var",
                    database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'panjereh.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN,
                    public_url=f"http://127.0.0.1:{_free_port()}", connector_timeout_seconds=5)


@contextmanager
def running(runtime: Runtime, *, tokens: bool = True) -> Iterator[Portal]:
    """The catalogue deployed and the whole application served at the runtime's public address;
    with API `tokens` for the demo citizens and staff unless a test makes its own."""
    url = runtime.settings.public_url
    port = int(url.rsplit(":", 1)[1])
    deploy_catalogue(runtime, ROOT / "processes")
    made = _tokens(runtime) if tokens else {}
    app = build_app(runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    assert isinstance(runtime.dispatcher, InlineDispatcher)
    runtime.dispatcher.start(runtime)  # retries fall due later, as in `panjereh serve`
    served = Portal(url, runtime, _sandbox_of(app), made)
    try:
        yield served
    finally:
        for client in served.opened:
            client.close()
        runtime.dispatcher.stop()
        server.should_exit = True
        thread.join(timeout=10)
