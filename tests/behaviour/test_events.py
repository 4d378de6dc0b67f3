"""Errors, escalations and terminate end events, driven through the API, with the state
checked as a later request restores it from the database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.settings import Settings
from tests.behaviour.flow import complete, deploy, instance, ready, start, stored
from tests.fixtures import Tokens


def _names(client: TestClient, tokens: Tokens, instance_id: str) -> list[str]:
    return sorted(t["name"] for t in ready(client, tokens, instance_id))


def _task(client: TestClient, tokens: Tokens, instance_id: str, name: str) -> str:
    return next(t["id"] for t in ready(client, tokens, instance_id) if t["name"] == name)


def test_error_end_event_caught_by_boundary_on_subprocess(client: TestClient, tokens: Tokens,
                                                          settings: Settings) -> None:
    deploy(client, tokens, "errors.bpmn")
    started = start(client, tokens, "error_boundary")
    assert [t.spec_id for t in stored(settings, started["id"]).human_tasks()] == ["decide"]
    complete(client, tokens, _task(client, tokens, started["id"], "decide"), {"approved": False})
    assert _names(client, tokens, started["id"]) == ["explain_rejection"]
    assert [t.spec_id for t in stored(settings, started["id"]).human_tasks()] == ["explain_rejection"]
    complete(client, tokens, _task(client, tokens, started["id"], "explain_rejection"), {"reason": "zoning"})
    assert instance(client, tokens, started["id"])["status"] == "completed"

    approved = start(client, tokens, "error_boundary")
    complete(client, tokens, _task(client, tokens, approved["id"], "decide"), {"approved": True})
    assert instance(client, tokens, approved["id"])["status"] == "completed"


def test_error_caught_by_interrupting_event_subprocess(client: TestClient, tokens: Tokens,
                                                       settings: Settings) -> None:
    deploy(client, tokens, "errors.bpmn")
    started = start(client, tokens, "error_event_subprocess")
    assert _names(client, tokens, started["id"]) == ["pay", "upload"], "the handler waits for the error"
    assert sorted(t.spec_id for t in stored(settings, started["id"]).human_tasks()) == ["pay", "upload"]
    complete(client, tokens, _task(client, tokens, started["id"], "upload"), {})
    after = instance(client, tokens, started["id"])
    assert after["status"] == "completed"
    assert ready(client, tokens, started["id"]) == [], "the handler interrupts: paying is no longer asked"
    restored = stored(settings, started["id"])
    assert restored.status == "completed" and restored.human_tasks() == []
    steps = [h["element_id"] for h in after["history"]]
    assert "note_missing" in steps, after["history"]


def test_uncaught_error_fails_the_instance_with_a_clear_message(client: TestClient, tokens: Tokens,
                                                                settings: Settings) -> None:
    deploy(client, tokens, "errors.bpmn")
    started = start(client, tokens, "error_uncaught")
    complete(client, tokens, _task(client, tokens, started["id"], "check"), {})
    failed = instance(client, tokens, started["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == ("the error 'Fatal' (code 'fatal') was thrown and no error event catches it; "
                               "the instance stops here")


def test_escalation_caught_without_interrupting(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    deploy(client, tokens, "escalation.bpmn")
    boundary = start(client, tokens, "escalation_boundary")
    assert _names(client, tokens, boundary["id"]) == ["inspect", "tell_manager"]
    assert sorted(t.spec_id for t in stored(settings, boundary["id"]).human_tasks()) == ["inspect", "tell_manager"]
    complete(client, tokens, _task(client, tokens, boundary["id"], "tell_manager"), {})
    complete(client, tokens, _task(client, tokens, boundary["id"], "inspect"), {})
    assert instance(client, tokens, boundary["id"])["status"] == "completed"

    handled = start(client, tokens, "escalation_event_subprocess")
    assert _names(client, tokens, handled["id"]) == ["work"], "nothing is escalated before the throw"
    complete(client, tokens, _task(client, tokens, handled["id"], "work"), {})
    assert _names(client, tokens, handled["id"]) == ["apologise", "finish"]
    assert sorted(t.spec_id for t in stored(settings, handled["id"]).human_tasks()) == ["apologise", "finish"]
    complete(client, tokens, _task(client, tokens, handled["id"], "apologise"), {})
    complete(client, tokens, _task(client, tokens, handled["id"], "finish"), {})
    assert instance(client, tokens, handled["id"])["status"] == "completed"


def test_terminate_end_event_in_one_branch_ends_everything(client: TestClient, tokens: Tokens,
                                                           settings: Settings) -> None:
    deploy(client, tokens, "terminate.bpmn")
    started = start(client, tokens, "terminate_branch")
    assert _names(client, tokens, started["id"]) == ["pay", "review", "withdraw"]
    complete(client, tokens, _task(client, tokens, started["id"], "review"), {"reviewed": True})
    assert sorted(t.spec_id for t in stored(settings, started["id"]).human_tasks()) == ["pay", "withdraw"]
    complete(client, tokens, _task(client, tokens, started["id"], "withdraw"), {"withdrawn": True})
    ended = instance(client, tokens, started["id"])
    assert ended["status"] == "completed"
    assert ready(client, tokens, started["id"]) == []
    restored = stored(settings, started["id"])
    assert restored.workflow.is_completed() and restored.human_tasks() == []
