"""An operator moves running instances to another version of their process, as the API shows it.

Three versions of one permit (tests/models/migration): version 2 adds an automatic stamp
and an archiving step after the review; version 3 replaces the review with an automatic
check, so an instance waiting in the review has nowhere to go there.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine import audit
from engine.db.models import AuditEvent, Instance, TimerRow
from engine.services import migrations
from engine.services.errors import LostRace
from engine.services.runtime import Runtime
from tests.api.test_deploy_and_run import complete, deploy, ready_tasks
from tests.fixtures import MODELS, Tokens

ADMIN = "admin"


def _migrate(client: TestClient, tokens: Tokens, instance_id: str, deployment_id: int, expect: int = 200,
             **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/instances/{instance_id}/migrate", json={"deployment_id": deployment_id, **body},
                           headers=tokens.headers(ADMIN))
    assert response.status_code == expect, response.text
    return response.json()


def _stored(runtime: Runtime, instance_id: str) -> tuple[Any, ...]:
    """Everything a migration would change about an instance, as stored."""
    with runtime.reading() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        timers = session.execute(select(TimerRow.task_id, TimerRow.due_at).where(
            TimerRow.instance_id == instance_id)).all()
        entries = session.execute(select(AuditEvent.id).where(AuditEvent.instance_id == instance_id)).all()
        return (instance.lock_version, instance.deployment_id, instance.version, instance.state, sorted(timers),
                len(entries))


@pytest.fixture
def versions(client: TestClient, tokens: Tokens) -> list[int]:
    """The deployments of the permit's three versions, in order."""
    return [deploy(client, tokens, f"migration/permit_v{n}.bpmn")["id"] for n in (1, 2, 3)]


@pytest.fixture
def waiting(client: TestClient, tokens: Tokens, versions: list[int]) -> dict[str, Any]:
    """An instance of version 1, waiting in the review (with its deadline running)."""
    response = client.post("/api/v1/processes/permit/instances", json={"data": {"applicant": "Sara"}, "version": 1},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 201, response.text
    started = response.json()
    assert started["version"] == 1 and started["status"] == "waiting"
    return started


def test_a_waiting_instance_moves_to_a_version_with_a_later_step_and_runs_it(
        client: TestClient, tokens: Tokens, runtime: Runtime, versions: list[int], waiting: dict[str, Any]) -> None:
    [review] = ready_tasks(client, tokens, waiting["id"])
    timers_before = _stored(runtime, waiting["id"])[4]
    moved = _migrate(client, tokens, waiting["id"], versions[1])
    assert moved["migrated"] is True and moved["safe"] is True and moved["refusals"] == []
    assert moved["from"] == {"deployment_id": versions[0], "version": 1}
    assert moved["to"] == {"deployment_id": versions[1], "version": 2}
    assert moved["plan"]["added"] == ["archive", "stamp"]
    assert {(t["element_id"], t["outcome"]) for t in moved["plan"]["tasks"]} == {("review", "kept"),
                                                                                  ("deadline", "kept")}
    assert moved["after"]["tasks"] == ["review"] and [t["element_id"] for t in moved["after"]["timers"]] == [
        "deadline"]
    # The same task, still ready for the same people; the deadline keeps its due time.
    assert [t["id"] for t in ready_tasks(client, tokens, waiting["id"])] == [review["id"]]
    assert _stored(runtime, waiting["id"])[4] == timers_before
    shown = client.get(f"/api/v1/instances/{waiting['id']}", headers=tokens.headers("analyst")).json()
    assert shown["version"] == 2 and shown["data"] == {"applicant": "Sara", "fee": 100}
    complete(client, tokens, review["id"], {"approved": True})
    [archive] = ready_tasks(client, tokens, waiting["id"])
    assert archive["name"] == "archive"
    done = complete(client, tokens, archive["id"], {})
    assert done["status"] == "completed" and done["data"]["stamped"] == 200
    with runtime.reading() as session:
        [entry] = session.execute(select(AuditEvent).where(AuditEvent.instance_id == waiting["id"],
                                                           AuditEvent.action == "instance.migrated")).scalars()
        assert entry.actor == "admin:automation" and entry.subject == "permit"
        assert entry.detail["from"] == {"deployment_id": versions[0], "version": 1}
        assert entry.detail["to"] == {"deployment_id": versions[1], "version": 2}
        assert audit.verify(session).ok
    assert client.get("/api/v1/audit/verify", headers=tokens.headers(ADMIN)).json()["ok"] is True


def test_a_version_without_the_waiting_task_is_refused_and_nothing_changes(
        client: TestClient, tokens: Tokens, runtime: Runtime, versions: list[int], waiting: dict[str, Any]) -> None:
    before = _stored(runtime, waiting["id"])
    refused = client.post(f"/api/v1/instances/{waiting['id']}/migrate", json={"deployment_id": versions[2]},
                          headers=tokens.headers(ADMIN))
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "cannot move" in detail and "'Review the application' (review) (ready)" in detail
    assert "does not have" in detail
    assert _stored(runtime, waiting["id"]) == before
    planned = _migrate(client, tokens, waiting["id"], versions[2], dry_run=True)
    assert planned["safe"] is False and planned["migrated"] is False and planned["after"] is None
    assert len(planned["refusals"]) == 2 and planned["plan"]["removed"] == ["deadline", "remind", "reminded_end",
                                                                             "review"]
    assert {(t["element_id"], t["outcome"]) for t in planned["plan"]["tasks"]} == {("review", "refused"),
                                                                                    ("deadline", "refused")}
    assert _stored(runtime, waiting["id"]) == before
    with runtime.reading() as session:
        assert audit.verify(session).ok


def test_a_dry_run_changes_nothing_and_says_what_would_happen(
        client: TestClient, tokens: Tokens, runtime: Runtime, versions: list[int], waiting: dict[str, Any]) -> None:
    before = _stored(runtime, waiting["id"])
    planned = _migrate(client, tokens, waiting["id"], versions[1], dry_run=True)
    assert planned["dry_run"] is True and planned["migrated"] is False and planned["safe"] is True
    assert planned["lock_version"] == before[0]
    assert planned["after"]["status"] == "waiting" and planned["after"]["tasks"] == ["review"]
    assert _stored(runtime, waiting["id"]) == before


def test_a_move_of_an_instance_changed_since_its_dry_run_answers_409(
        client: TestClient, tokens: Tokens, runtime: Runtime, versions: list[int], waiting: dict[str, Any]) -> None:
    planned = _migrate(client, tokens, waiting["id"], versions[1], dry_run=True)
    [review] = ready_tasks(client, tokens, waiting["id"])
    complete(client, tokens, review["id"], {"approved": False})  # version 1 then ends the instance
    stale = _migrate(client, tokens, waiting["id"], versions[1], expect=409, lock_version=planned["lock_version"])
    assert "changed since its dry run" in stale["detail"]
    ended = _migrate(client, tokens, waiting["id"], versions[1], expect=409)
    assert "the instance is completed" in ended["detail"]


def test_two_writers_of_one_instance_the_stale_one_loses(
        client: TestClient, tokens: Tokens, runtime: Runtime, versions: list[int], waiting: dict[str, Any]) -> None:
    """The optimistic lock: a move based on an instance read before another change was saved is refused."""
    with runtime.sessions() as stale_session:
        stale = stale_session.get(Instance, waiting["id"])
        assert stale is not None
        stale_session.commit()  # the row is read; its next write says "where lock_version = what I read"
        [review] = ready_tasks(client, tokens, waiting["id"])
        complete(client, tokens, review["id"], {"approved": True})
        with pytest.raises(LostRace):
            migrations.migrate(stale_session, runtime, "admin:test", waiting["id"], versions[1])
            stale_session.commit()
    with runtime.reading() as session:
        instance = session.get(Instance, waiting["id"])
        assert instance is not None and instance.version == 1 and instance.status == "completed"


def test_a_task_the_instance_is_at_takes_the_new_versions_title_lane_and_form(
        client: TestClient, tokens: Tokens, versions: list[int], waiting: dict[str, Any]) -> None:
    text = (MODELS / "migration" / "permit_v2.bpmn").read_text(encoding="utf-8")
    renamed = text.replace('<bpmn:userTask id="review" name="Review the application" />',
                           '<bpmn:userTask id="review" name="Review the application and its plans" />')
    assert renamed != text
    response = client.post("/api/v1/deployments", headers=tokens.headers("analyst"),
                           files=[("files", ("permit_v2b.bpmn", renamed.encode(), "application/xml"))])
    assert response.status_code == 201, response.text
    [before] = ready_tasks(client, tokens, waiting["id"])
    moved = _migrate(client, tokens, waiting["id"], response.json()["id"])
    assert [(c["element_id"], c["attributes"]) for c in moved["plan"]["changed"]] == [("review", ["bpmn_name"])]
    assert {(t["element_id"], t["outcome"]) for t in moved["plan"]["tasks"]} == {("review", "changed"),
                                                                                  ("deadline", "kept")}
    [after] = ready_tasks(client, tokens, waiting["id"])
    assert after["id"] == before["id"]
    assert (before["title"], after["title"]) == ("Review the application", "Review the application and its plans")


def test_moves_to_what_is_not_this_process_are_refused(
        client: TestClient, tokens: Tokens, versions: list[int], waiting: dict[str, Any]) -> None:
    other = deploy(client, tokens, "approval.bpmn")["id"]
    assert "does not deploy process 'permit'" in _migrate(client, tokens, waiting["id"], other, expect=409)["detail"]
    assert "already runs" in _migrate(client, tokens, waiting["id"], versions[0], expect=409)["detail"]
    assert _migrate(client, tokens, waiting["id"], 999_999, expect=404)["detail"] == "no deployment 999999"
    planned = _migrate(client, tokens, waiting["id"], other, dry_run=True)
    assert planned["safe"] is False and planned["plan"] is None and planned["to"]["version"] is None


def test_every_running_instance_of_a_deployment_moves_each_on_its_own(
        client: TestClient, tokens: Tokens, runtime: Runtime, versions: list[int]) -> None:
    started = [client.post("/api/v1/processes/permit/instances", json={"data": {}, "version": 1},
                           headers=tokens.headers("analyst")).json()["id"] for _ in range(3)]
    [review] = ready_tasks(client, tokens, started[2])
    complete(client, tokens, review["id"], {})  # ended: not moved

    def move(to: int, **options: Any) -> list[tuple[str, bool, bool]]:
        outcomes = migrations.migrate_all(runtime, "admin:test", versions[0], to, **options)
        return [(o.instance_id, not o.refusals, o.migrated) for o in outcomes]

    assert move(versions[1], dry_run=True) == [(started[0], True, False), (started[1], True, False)]
    assert move(versions[2]) == [(started[0], False, False), (started[1], False, False)]
    assert move(versions[1], limit=1) == [(started[0], True, True)]
    assert move(versions[1]) == [(started[1], True, True)]
    assert move(versions[1]) == []
    with runtime.reading() as session:
        assert [session.get(Instance, i).version for i in started] == [2, 2, 1]  # type: ignore[union-attr]
        assert audit.verify(session).ok
