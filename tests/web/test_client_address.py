"""Rate limits count the real client: X-Forwarded-For is believed only from configured proxies,
whatever the ASGI server would do with it on its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from engine.services.clients import client_address
from engine.services.runtime import Runtime
from engine.services.tracking import new_tracking_code
from engine.settings import Settings
from engine.web.portal import TRACK_PER_HOUR
from tests.fixtures import ROOT
from tests.web.journey import CITIZEN, csrf

PROXIES = ["127.0.0.1", "10.0.0.0/8"]


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "client"), [
    ("127.0.0.1", ["198.51.100.7"], [], "127.0.0.1"),
    ("192.0.2.1", ["198.51.100.7"], ["127.0.0.1"], "192.0.2.1"),
    ("127.0.0.1", ["198.51.100.7"], PROXIES, "198.51.100.7"),
    ("127.0.0.1", ["6.6.6.6, 203.0.113.7, 10.1.2.3"], PROXIES, "203.0.113.7"),
    ("127.0.0.1", ["6.6.6.6", "203.0.113.7:5443, 10.1.2.3"], PROXIES, "203.0.113.7"),
    ("127.0.0.1", ["junk, 10.1.2.3"], PROXIES, "junk"),
    ("127.0.0.1", ["10.0.0.9, 10.1.2.3"], PROXIES, "10.0.0.9"),
    ("127.0.0.1", [], PROXIES, "127.0.0.1"),
    ("::ffff:127.0.0.1", ["[2001:db8:1:2::99]:80"], PROXIES, "2001:db8:1:2::/64"),
    ("2001:db8:1:2:aaaa::1", [], [], "2001:db8:1:2::/64"),
    ("testclient", ["198.51.100.7"], PROXIES, "testclient"),
])
def test_the_client_is_the_right_most_address_no_trusted_proxy_vouches_for(
        peer: str, forwarded: list[str], trusted: list[str], client: str) -> None:
    assert client_address(peer, forwarded, trusted) == client


def test_trusted_proxies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().trusted_proxies == []
    monkeypatch.setenv("PANJEREH_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16")
    assert Settings().trusted_proxies == ["10.0.0.5", "10.1.0.0/16"]
    monkeypatch.setenv("PANJEREH_TRUSTED_PROXIES", '["::1"]')
    assert Settings().trusted_proxies == ["::1"]
    monkeypatch.setenv("PANJEREH_TRUSTED_PROXIES", "10.0.0.5, proxy.internal")
    with pytest.raises(ValidationError, match=r"proxy\.internal"):
        Settings()


@contextmanager
def _served(settings: Settings, tmp_path: Path, **environment: str) -> Iterator[str]:
    """`panjereh serve` as an operator runs it, with uvicorn told by its own variable to trust anyone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PANJEREH_DATABASE_URL": settings.database_url, "PANJEREH_VAR_DIR": str(tmp_path / "var"),
           "PANJEREH_PORT": str(port), "PANJEREH_DEPLOY_PROCESSES_ON_START": "false", "FORWARDED_ALLOW_IPS": "*",
           **environment}
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, "the server stopped"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def _lookups(url: str, forwarded: list[str]) -> list[int]:
    """One tracking lookup per X-Forwarded-For value; their status codes."""
    with httpx.Client(base_url=url) as http:
        token = csrf(http.get("/track").text)
        return [http.post("/track", headers={"X-Forwarded-For": value}, data={
            "csrf_token": token, "tracking_code": new_tracking_code(), "national_code": CITIZEN}).status_code
            for value in forwarded]


def test_a_rotating_forwarded_header_from_an_untrusted_peer_gets_one_quota(
        settings: Settings, runtime: Runtime, tmp_path: Path) -> None:
    """`runtime` empties the shared PostgreSQL database first, as for every test."""
    with _served(settings, tmp_path) as url:
        statuses = _lookups(url, [f"198.51.100.{n}" for n in range(1, TRACK_PER_HOUR + 3)])
    assert statuses == [404] * TRACK_PER_HOUR + [429, 429]


def test_a_trusted_proxy_is_believed_up_to_the_first_address_it_does_not_vouch_for(
        settings: Settings, runtime: Runtime, tmp_path: Path) -> None:
    with _served(settings, tmp_path, PANJEREH_TRUSTED_PROXIES=",".join(PROXIES)) as url:
        # What the client wrote itself comes first; the proxies appended the rest.
        spoofed = _lookups(url, [f"192.0.2.{n}, 203.0.113.7, 10.0.0.2" for n in range(1, TRACK_PER_HOUR + 2)])
        another = _lookups(url, ["203.0.113.8, 10.0.0.2", "203.0.113.8"])
    assert spoofed == [404] * TRACK_PER_HOUR + [429]
    assert another == [404, 404], "another client behind the proxies has a quota of its own"
