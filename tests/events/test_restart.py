"""Waits are durable: an instance waiting on a timer and another on a message outlive the
server. Two real uvicorn servers run one after the other on the same database file (or
PostgreSQL); the second fires the timer and takes the message."""

from __future__ import annotations

from contextlib import closing

import httpx

from engine.app import build_app
from engine.services import events
from engine.services.runtime import Runtime, build_runtime
from engine.settings import Settings
from tests.events.helpers import later
from tests.fixtures import PG_URL, Tokens, model_files, serve


def test_signal_and_error_waits_survive_a_restart(settings: Settings, runtime: Runtime, tokens: Tokens) -> None:
    admin = tokens.headers("admin")
    with serve(build_app(runtime)) as url, httpx.Client(base_url=url, headers=admin) as http:
        files = model_files("events/signals.bpmn", "events/manual_check.bpmn")
        assert http.post("/api/v1/deployments", files=files).status_code == 201
        selling = http.post("/api/v1/processes/await_recall/instances", json={"data": {}}).json()["id"]
        checking = http.post("/api/v1/processes/manual_check/instances", json={"data": {}}).json()["id"]
        [call] = [c for c in http.get("/api/v1/service-calls").json() if c["instance_id"] == checking]
    runtime.close()

    with (closing(build_runtime(settings, migrate=not PG_URL)) as second, serve(build_app(second)) as url,
          httpx.Client(base_url=url, headers=admin) as http):
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
    with serve(build_app(runtime)) as url, httpx.Client(base_url=url, headers=admin) as http:
        files = model_files("events/timers.bpmn", "events/messages.bpmn")
        assert http.post("/api/v1/deployments", files=files).status_code == 201
        timed = http.post("/api/v1/processes/wait_duration/instances", json={"data": {}}).json()["id"]
        paying = http.post("/api/v1/processes/await_payment/instances",
                           json={"data": {"order_id": "R-1"}}).json()["id"]
        assert http.get(f"/api/v1/instances/{timed}").json()["status"] == "waiting"
    runtime.close()

    with (closing(build_runtime(settings, migrate=not PG_URL)) as second, serve(build_app(second)) as url,
          httpx.Client(base_url=url, headers=admin) as http):
        assert events.tick(second, later(minutes=61)).fired == [timed]
        sent = http.post("/api/v1/messages", json={"name": "payment_received", "correlation": "R-1",
                                                    "payload": {"order_id": "R-1", "amount": 9}})
        assert sent.json() == {"outcome": "delivered", "instances": [paying], "buffer_id": None}
        assert http.get(f"/api/v1/instances/{timed}").json()["data"] == {"waited": True}
        paid = http.get(f"/api/v1/instances/{paying}").json()
        assert paid["status"] == "completed" and paid["data"]["settled"] == 9
