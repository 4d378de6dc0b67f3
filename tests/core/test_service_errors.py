"""A connector's error code reaches the model as a BPMN error, so agencies can model the fallback."""

from __future__ import annotations

from engine.core.execution import Execution, make_script_engine
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.fixtures import MODELS


def _start(name: str, key: str) -> Execution:
    loaded, report = check([UploadedFile(name, (MODELS / name).read_bytes())], Settings())
    assert loaded is not None, report.problems
    execution = Execution.start(loaded.compiled, key, {"national_code": "0013542419"}, make_script_engine())
    execution.advance()
    return execution


def test_caught_error_takes_the_boundary_path() -> None:
    execution = _start("registry_fallback.bpmn", "registry_fallback")
    [call] = execution.service_calls()
    assert execution.fail_service_task(call.task_id, "not-found", "no such person") is True
    assert execution.service_calls() == []
    assert [t.spec_id for t in execution.human_tasks()] == ["upload_birth_certificate"]


def test_uncaught_error_leaves_the_task_waiting() -> None:
    execution = _start("registry_fallback.bpmn", "registry_fallback")
    [call] = execution.service_calls()
    assert execution.fail_service_task(call.task_id, "registry-down", "timeout") is False
    assert [c.task_id for c in execution.service_calls()] == [call.task_id]
    plain = _start("registry_lookup.bpmn", "registry_lookup")
    [call] = plain.service_calls()
    assert plain.fail_service_task(call.task_id, "not-found", "no such person") is False
