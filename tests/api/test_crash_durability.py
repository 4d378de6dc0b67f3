"""Nothing acknowledged is lost: a real `panjereh serve` process is SIGKILLed while starts and
task completions are in flight. After a restart on the same database every write that was
answered 2xx is there exactly once, and the audit chain verifies. On SQLite by default; the
PostgreSQL pass runs the same test against PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from engine.db.models import AuditEvent, HumanTaskRow, Instance
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.api.servers import audit_verify, server_process
from tests.fixtures import Tokens, model_files

IN_FLIGHT = 60
KILL_AFTER_ACKNOWLEDGED = 10
ROUNDS = 2


@dataclass
class Outcomes:
    acknowledged: dict[int, dict[str, Any]] = field(default_factory=dict)
    this_round: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)

    def next_round(self) -> None:
        self.this_round = 0
        self.enough.clear()

    def record(self, index: int, response: httpx.Response) -> None:
        if response.status_code in (200, 201):
            with self.lock:
                self.acknowledged[index] = response.json()
                self.this_round += 1
                if self.this_round >= KILL_AFTER_ACKNOWLEDGED:
                    self.enough.set()


def _prepare(url: str, headers: dict[str, str], tasks: int) -> list[str]:
    """Deploy the approval model (once) and open `tasks` instances, each waiting on its first task."""
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        assert http.post("/api/v1/deployments", files=model_files("approval.bpmn")).status_code in (200, 201)
        ready = []
        for _ in range(tasks):
            instance = http.post("/api/v1/processes/approval/instances", json={"data": {}}).json()
            [task] = http.get("/api/v1/tasks", params={"instance_id": instance["id"]}).json()
            ready.append(task["id"])
        return ready


def _write(url: str, headers: dict[str, str], index: int, tasks: list[str]) -> httpx.Request:
    if index % 2 == 0:
        return httpx.Request("POST", f"{url}/api/v1/processes/approval/instances", headers=headers,
                             json={"data": {"marker": index}})
    return httpx.Request("POST", f"{url}/api/v1/tasks/{tasks[index // 2]}/complete", headers=headers,
                         json={"data": {"amount": index, "channel": "sms"}})


def _fire(url: str, headers: dict[str, str], tasks: list[str], first: int,
          outcomes: Outcomes) -> list[threading.Thread]:
    """Send IN_FLIGHT writes at once, numbered from `first`, each from a thread of its own."""
    gate = threading.Barrier(IN_FLIGHT)

    def send(index: int) -> None:
        with httpx.Client(timeout=60) as http:
            request = _write(url, headers, index, tasks)
            gate.wait()
            try:
                outcomes.record(index, http.send(request))
            except httpx.TransportError:
                return  # the server died under this request: it was never acknowledged

    threads = [threading.Thread(target=send, args=(first + i,)) for i in range(IN_FLIGHT)]
    for thread in threads:
        thread.start()
    return threads


def test_every_acknowledged_write_survives_sigkill(settings: Settings, runtime: Runtime, tokens: Tokens,
                                                  tmp_path: Path) -> None:
    headers = tokens.headers("analyst")
    outcomes = Outcomes()
    tasks: list[str] = []
    for round_ in range(ROUNDS):
        outcomes.next_round()
        with server_process(settings, tmp_path, f"round-{round_}") as server:
            _check(server.url, headers, outcomes.acknowledged)
            tasks += _prepare(server.url, headers, IN_FLIGHT // 2)
            threads = _fire(server.url, headers, tasks, round_ * IN_FLIGHT, outcomes)
            assert outcomes.enough.wait(120), f"too few writes were answered\n{server.log()}"
            server.kill()
            for thread in threads:
                thread.join(timeout=60)
    with server_process(settings, tmp_path, "restarted") as server:
        _check(server.url, headers, outcomes.acknowledged)
    with runtime.reading() as session:
        markers = [i.data.get("marker") for i in session.execute(select(Instance)).scalars()]
        assert all(markers.count(index) <= 1 for index in range(0, ROUNDS * IN_FLIGHT, 2)), "a start was doubled"
        for task_id in tasks:
            task = session.get(HumanTaskRow, task_id)
            assert task is not None
            completions = session.execute(select(AuditEvent).where(
                AuditEvent.action == "task.completed", AuditEvent.detail["task_id"].as_string() == task_id,
                AuditEvent.actor == "analyst:analyst-1")).scalars().all()
            assert len(completions) == (1 if task.status == "completed" else 0), f"task {task_id} completed twice"
    verified = audit_verify(settings)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _check(url: str, headers: dict[str, str], acknowledged: dict[int, dict[str, Any]]) -> None:
    """Every write answered 2xx before a kill is there after the restart."""
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for index, answer in sorted(acknowledged.items()):
            instance = http.get(f"/api/v1/instances/{answer['id']}")
            assert instance.status_code == 200, f"write {index} was acknowledged and then lost"
            data = instance.json()["data"]
            if index % 2 == 0:
                assert data.get("marker") == index, f"start {index} was acknowledged and then lost"
            else:
                assert data.get("amount") == index, f"completion {index} was acknowledged and then lost"
