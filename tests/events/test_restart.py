"""Waits are durable: an instance waiting on a timer and another on a message outlive the
server. Two real uvicorn servers run one after the other on the same database file (or
PostgreSQL); the second fires the timer and takes the message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager

import httpx

from engine.app import build_app
from engine.compose import build_runtime
from engine.services import event_delivery
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.events.helpers import later
from tests.fixtures import PG_URL, Tokens, model_files, serve


@contextmanager
def _first_server(runtime: Runtime, headers: dict[str, str], *models: str) -> Iterator[httpx.Client]:
    """A server on `runtime` with `models` deployed; the runtime is closed when it stops."""
    with serve(build_app(runtime)) as url, httpx.Client(base_url=url, headers=headers) as http:
        assert http.post("/api/v1/deployments", files=model_files(*models)).status_code == 201
        yield http
    runtime.close()


@contextmanager
def _second_server(settings: Settings, headers: dict[str, str]) -> Iterator[tuple[Runtime, httpx.Client]]:
    """A new runtime and server on the same database, as after a restart."""
    with (closing(build_runtime(settings, migrate=not PG_URL)) as second, serve(build_app(second)) as url,
          httpx.Client(base_url=url, headers=headers) as http):
        yield second, http


def test_signal_and_error_waits_survive_a_restart(settings: Settings, runtime: Runtime, tokens: Tokens) -> None:
    admin = tokens.headers("admin")
    with _first_server(runtime, admin, "events/signals.bpmn", "events/manual_check.bpmn") as http:
        selling = http.post("/api/v1/processes/await_recall/instances", json={"data": {}}).json()["id"]
        checking = http.post("/api/v1/processes/manual_check/instances", json={"data": {}}).json()["id"]
        [call] = [c for c in http.get("/api/v1/service-calls").json() if c["instance_id"] == checking]

    with _second_server(settings, admin) as (_, http):
        uncaught = http.post(f"/api/v1/service-calls/{call['id']}/error", json={"code": "timeout"})
        assert uncaught.status_code == 422 and "timeout" in uncaught.text
        caught = http.post(f"/api/v1/service-calls/{call['id']}/error",
                           json={"code": "not-found", "message": "no file"})
        assert caught.status_code == 200, caught.text
        assert caught.json()["status"] == "completed" and caught.json()["data"]["path"] == "missing"
        again = http.post(f"/api/v1/service-calls/{call['id']}/error", json={"code": "not-found"})
        assert again.status_code in (404, 409), "a settled call cannot fail twice"
        signal = http.post("/api/v1/signals", json={"name": "product_recall", "payload": {}})
        assert signal.status_code == 200 and selling in signal.json()["instances"], signal.text
        assert http.get(f"/api/v1/instances/{selling}").json()["status"] == "completed"


def test_timer_and_message_waits_survive_a_restart(settings: Settings, runtime: Runtime, tokens: Tokens) -> None:
    admin = tokens.headers("admin")
    with _first_server(runtime, admin, "events/timers.bpmn", "events/messages.bpmn") as http:
        timed = http.post("/api/v1/processes/wait_duration/instances", json={"data": {}}).json()["id"]
        paying = http.post("/api/v1/processes/await_payment/instances",
                           json={"data": {"order_id": "R-1"}}).json()["id"]
        assert http.get(f"/api/v1/instances/{timed}").json()["status"] == "waiting"

    with _second_server(settings, admin) as (second, http):
        assert event_delivery.tick(second, later(minutes=61)).fired == [timed]
        sent = http.post("/api/v1/messages", json={"name": "payment_received", "correlation": "R-1",
                                                    "payload": {"order_id": "R-1", "amount": 9}})
        assert sent.json() == {"outcome": "delivered", "instances": [paying], "buffer_id": None}
        assert http.get(f"/api/v1/instances/{timed}").json()["data"] == {"waited": True}
        paid = http.get(f"/api/v1/instances/{paying}").json()
        assert paid["status"] == "completed" and paid["data"]["settled"] == 9
