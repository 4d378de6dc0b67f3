"""The change budget of `Execution.limit_steps`: a runaway stops between two steps, the
instance fails with a whole state that restores, and the error names the limit met."""

from __future__ import annotations

import pytest

from engine.core.errors import StepLimitExceeded
from engine.core.execution import Execution, make_script_engine
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.fixtures import MODELS


def _loop(rounds: int) -> Execution:
    loaded, report = check([UploadedFile("counter_loop.bpmn", (MODELS / "counter_loop.bpmn").read_bytes())],
                           Settings())
    assert loaded is not None, report.problems
    return Execution.start(loaded.compiled, "counter_loop", {"rounds": rounds}, make_script_engine())


def test_the_step_limit_stops_a_loop_between_two_steps() -> None:
    execution = _loop(10**9)
    execution.limit_steps(90, 3600)
    with pytest.raises(StepLimitExceeded, match=r"stopped after 90 automatic steps .* limit of 90 steps"):
        execution.advance()
    assert execution.status == "failed"
    assert execution.error is not None and "PANJEREH_MAX_STEPS_PER_CHANGE" in execution.error
    state, version = execution.dump()
    loaded, _ = check([UploadedFile("counter_loop.bpmn", (MODELS / "counter_loop.bpmn").read_bytes())], Settings())
    assert loaded is not None
    restored = Execution.restore(loaded.compiled, "counter_loop", state, version, make_script_engine())
    assert restored.data["counter"] == execution.data["counter"] > 0


def test_the_time_limit_stops_a_loop_that_stays_under_the_step_limit() -> None:
    execution = _loop(10**9)
    execution.limit_steps(10**9, 0.2)
    with pytest.raises(StepLimitExceeded, match=r"limit of 0.2 s \(PANJEREH_MAX_CHANGE_SECONDS\)"):
        execution.advance()
    assert execution.status == "failed"


def test_a_loop_within_the_budget_runs_to_its_end() -> None:
    execution = _loop(20)
    execution.limit_steps(100, 3600)
    execution.advance()
    assert execution.status == "completed" and execution.data["counter"] == 20
