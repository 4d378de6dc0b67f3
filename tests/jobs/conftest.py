"""Real Celery workers against a real broker, database and agency, for the delivery guarantees.

Every test gets: a broker (Redis, then RabbitMQ) with a queue of its own, its own simulated
agencies on a real port (so it can make them slow, broken or down without disturbing other
tests), settings in broker mode pointing at both, and `workers`, which starts
`python -m engine.cli worker` processes and can SIGKILL them.

Without a broker the tests skip; with ``CI`` set they fail instead, since CI starts both.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.simulators.app import create_sandbox_app
from connectors.simulators.behaviour import ServiceState
from connectors.simulators.settings import SandboxSettings, simulated_config
from engine.services.dispatch import make_celery
from engine.settings import Settings
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, serve

# Redis database 11 is used by these tests and nothing else; it is flushed before each one.
# On RabbitMQ each test declares a queue of its own and deletes it afterwards.
REDIS_URL = os.environ.get("PANJEREH_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
RABBITMQ_URL = os.environ.get("PANJEREH_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
# The workers' connector timeout. An attempt is presumed dead 4 x this after its claim
# (12 s), so the kill test's sweep comes within a test's patience.
WORKER_TIMEOUT_SECONDS = 3
# Redis hands a dead worker's message out again after this (kombu looks every 5 s).
VISIBILITY_TIMEOUT_SECONDS = 8
SMS_KEY = "sandbox-sms-key"


def unavailable(reason: str) -> NoReturn:
    """Skip on a developer's machine without a broker; in CI a missing broker is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the broker tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, explain: Callable[[], str] = str,
             every: float = 0.1) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{explain()}", pytrace=False)
        time.sleep(every)


@dataclass
class Broker:
    name: str
    url: str
    queue: str


def _reachable(name: str, url: str) -> None:
    try:
        if name == "redis":
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
            client.ping()
            client.flushdb()  # the tests' own database: start from an empty broker
            client.close()
        else:
            with make_celery(url).connection_for_write() as connection:
                connection.ensure_connection(max_retries=1)
    except Exception as error:
        unavailable(f"{name} is not reachable at {url}: {type(error).__name__}: {error}")


def _delete_queue(broker: Broker) -> None:
    """Leave the broker as found: drop the test's queue (and, on RabbitMQ, its exchange)."""
    try:
        with make_celery(broker.url).connection_for_write() as connection:
            channel = connection.default_channel
            channel.queue_delete(broker.queue)
            if broker.name == "rabbitmq":
                channel.exchange_delete(broker.queue)
    except Exception as error:  # cleanup must not hide the test's own outcome
        print(f"could not delete queue {broker.queue}: {error}", file=sys.stderr)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    """A broker, reachable, with a queue no other test (or test run) uses."""
    name: str = request.param
    url = REDIS_URL if name == "redis" else RABBITMQ_URL
    _reachable(name, url)
    found = Broker(name, url, f"panjereh-test-{uuid.uuid4().hex[:10]}")
    # The test process sends through the same queue as its workers (engine.services.dispatch).
    monkeypatch.setenv("PANJEREH_BROKER_QUEUE", found.queue)
    monkeypatch.setenv("PANJEREH_BROKER_VISIBILITY_TIMEOUT", str(VISIBILITY_TIMEOUT_SECONDS))
    yield found
    _delete_queue(found)


class _Arrivals:
    """Counts SMS requests whose body has fully arrived, before the agency's latency: the
    moment a worker is known to be mid-call with the agency bound to act (the agency's own
    log is written only once it answers). Counting at the first byte instead lets a test
    kill the worker while the body is still on its way, and then the agency never acts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.sms_posts = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/sms/messages")):
            await self.app(scope, receive, send)
            return

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                self.sms_posts += 1
            return message

        await self.app(scope, counted, send)


@dataclass
class Agency:
    """This test's simulated agencies, served under ``<url>/sandbox`` like the embedded ones."""

    url: str
    app: FastAPI
    arrivals: _Arrivals

    @property
    def sms_state(self) -> ServiceState:
        state: ServiceState = self.app.state.sandbox.services["sms"]
        return state

    def behave(self, **changes: Any) -> None:
        """Change the SMS gateway's behaviour (latency_ms, fail_every, ...) from now on."""
        self.sms_state.behaviour = self.sms_state.behaviour.model_copy(update=changes)

    def outage(self, down: bool) -> None:
        response = httpx.post(f"{self.url}/sandbox/_sandbox/outage", json={"service": "sms", "down": down})
        assert response.status_code == 200, response.text

    def status(self) -> dict[str, Any]:
        services: dict[str, Any] = httpx.get(f"{self.url}/sandbox/_sandbox/status").json()["services"]
        return dict(services["sms"])

    def sends(self) -> list[dict[str, Any]]:
        """The agency's log of send requests (not the reads of its outbox), oldest first."""
        entries: list[dict[str, Any]] = httpx.get(f"{self.url}/sandbox/_sandbox/log",
                                                  params={"service": "sms"}).json()["entries"]
        return [entry for entry in entries if entry["method"] == "POST"]

    def messages(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/sandbox/sms/messages", headers={"Authorization": f"Bearer {SMS_KEY}"})
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


@pytest.fixture
def agency() -> Iterator[Agency]:
    # No latency or jitter unless a test asks: the timings below are the test's own.
    sandbox = create_sandbox_app(SandboxSettings(latency_ms=0, jitter_ms=0))
    host = FastAPI()
    host.mount("/sandbox", sandbox)
    arrivals = _Arrivals(host)
    with serve(arrivals) as url:
        yield Agency(url, sandbox, arrivals)


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool, broker: Broker, agency: Agency) -> Settings:
    """Broker mode: the test process (the API) only hands calls over; workers run them."""
    return Settings(
        var_dir=tmp_path / "var",
        database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'panjereh.db'}",
        processes_dir=ROOT / "processes",
        admin_token=ADMIN_TOKEN,
        connectors=simulated_config(f"{agency.url}/sandbox"),
        connector_timeout_seconds=WORKER_TIMEOUT_SECONDS,
        broker_url=broker.url,
        sandbox=False,
    )


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class Workers:
    """`panjereh worker` processes, each the leader of its own process group, so a kill takes
    the main process, its pool process and its beat together, as a machine dying would."""

    settings: Settings
    broker: Broker
    directory: Path
    started: list[Worker] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
        return {**inherited, "PYTHONUNBUFFERED": "1",
                "PANJEREH_DATABASE_URL": self.settings.database_url,
                "PANJEREH_VAR_DIR": str(self.settings.var_dir),
                "PANJEREH_BROKER_URL": self.broker.url,
                "PANJEREH_BROKER_QUEUE": self.broker.queue,
                "PANJEREH_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
                "PANJEREH_CONNECTOR_TIMEOUT_SECONDS": str(self.settings.connector_timeout_seconds),
                "PANJEREH_SANDBOX": "false",
                **{f"PANJEREH_CONNECTORS__{connector.upper()}__BASE_URL": config["base_url"]
                   for connector, config in self.settings.connectors.items()}}

    def start(self, *, beat: bool = True, wait: bool = True) -> Worker:
        name = f"worker-{len(self.started) + 1}"
        log_path = self.directory / f"{name}.log"
        command = [sys.executable, "-m", "engine.cli", "worker", "--concurrency", "1"]
        with log_path.open("wb") as sink:
            process = subprocess.Popen([*command] if beat else [*command, "--no-beat"], cwd=self.directory,
                                       env=self.environment(), stdout=sink, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        worker = Worker(name, process, log_path)
        self.started.append(worker)
        if wait:
            self.wait_ready(worker)
        return worker

    def wait_ready(self, worker: Worker) -> None:
        def ready() -> bool:
            if worker.process.poll() is not None:
                pytest.fail(f"{worker.name} exited with {worker.process.returncode}\n{worker.log()}", pytrace=False)
            return " ready." in worker.log()

        wait_for(ready, 45, f"{worker.name} to be ready", self.logs)

    def kill(self, worker: Worker) -> None:
        """SIGKILL the whole worker (main process, pool process, beat): no goodbye to the broker."""
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)

    def stop_all(self) -> None:
        """SIGKILL every worker group still running. The test is over, and nothing is judged
        on how a worker stops (`kill` is the stop the tests judge); a warm shutdown (beat,
        pool, broker goodbye) took 1-3 s of every test. The broker keeps nothing: the queue
        is deleted, and the tests' Redis database is flushed before the next test."""
        for worker in self.started:
            # The group outlives its leader when the leader dies first: kill it in any case.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(worker.process.pid, signal.SIGKILL)
        for worker in self.started:
            worker.process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"----- {w.name} -----\n{w.log()[-6000:]}" for w in self.started)


@pytest.fixture
def workers(settings: Settings, broker: Broker, tmp_path: Path) -> Iterator[Workers]:
    found = Workers(settings, broker, tmp_path)
    try:
        yield found
    finally:
        found.stop_all()
