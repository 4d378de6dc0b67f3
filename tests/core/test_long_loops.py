"""Long gateway loops: 5,000 rounds end right, survive a save/restore half way, and the work
per round does not grow with the round number (`engine.core.workflow`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

from engine.bpmn.safe_xml import load_xml
from engine.core.documents import Document
from engine.core.execution import Execution, make_script_engine
from engine.core.package import CompiledPackage, compile_package
from engine.core.workflow import EngineWorkflow, IndexedQueries

MODEL = Path(__file__).resolve().parents[1] / "models" / "loops" / "gateway_loop.bpmn"
KEY = "gateway_loop"


@pytest.fixture(scope="module")
def package() -> CompiledPackage:
    root = load_xml(MODEL.read_bytes(), name=MODEL.name, max_bytes=1_000_000, max_depth=64)
    compiled = compile_package([Document(MODEL.name, "bpmn", root)])
    assert compiled.report.deployable, compiled.report
    return compiled


@pytest.fixture
def cross_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every indexed answer is compared with SpiffWorkflow's own tree walk."""
    monkeypatch.setattr(IndexedQueries, "cross_check", True)


def _end_events(execution: Execution) -> list[str]:
    return [step.spec_id for step in execution.take_steps() if step.kind == "EndEvent"]


def test_five_thousand_rounds_end_at_the_right_event(package: CompiledPackage) -> None:
    execution = Execution.start(package, KEY, {"rounds": 5000, "pause_at": 0}, make_script_engine())
    assert isinstance(execution.workflow, EngineWorkflow)
    execution.advance()
    assert execution.status == "completed"
    assert execution.data["counter"] == 5000
    assert _end_events(execution) == ["finished"]


def test_five_thousand_rounds_with_save_and_restore_at_round_2500(package: CompiledPackage) -> None:
    execution = Execution.start(package, KEY, {"rounds": 5000, "pause_at": 2500}, make_script_engine())
    execution.advance()
    assert execution.status == "waiting"
    assert [task.spec_id for task in execution.human_tasks()] == ["checkpoint"]
    assert execution.data["counter"] == 2500

    state, version = execution.dump()
    json.loads(state)
    restored = Execution.restore(package, KEY, state, version, make_script_engine())
    assert isinstance(restored.workflow, EngineWorkflow)
    assert restored.dump()[0] == state
    [checkpoint] = restored.human_tasks()
    assert restored.task_data(checkpoint.id)["counter"] == 2500

    restored.complete_human_task(checkpoint.id, {"confirmed": True})
    assert restored.status == "completed"
    assert restored.data["counter"] == 5000
    assert restored.data["confirmed"] is True
    assert _end_events(restored) == ["finished"]


def test_index_agrees_with_the_tree_walk_through_a_restore(package: CompiledPackage, cross_check: None) -> None:
    execution = Execution.start(package, KEY, {"rounds": 200, "pause_at": 80}, make_script_engine())
    execution.advance()
    state, version = execution.dump()
    restored = Execution.restore(package, KEY, state, version, make_script_engine())
    restored.complete_human_task(restored.human_tasks()[0].id, {})
    assert restored.status == "completed"
    assert restored.data["counter"] == 200


def _loop_tasks(package: CompiledPackage, rounds: int, make: Callable[..., Any]) -> Any:
    spec, subprocess_specs = package.spec(KEY)
    workflow = make(spec, subprocess_specs, script_engine=make_script_engine())
    workflow.get_next_task(state=16).data.update({"rounds": rounds, "pause_at": 0})
    return workflow


@pytest.fixture
def tasks_visited(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts every task SpiffWorkflow's tree walks step over (one count per task per walk)."""
    visited = [0]
    for iterator in (TaskIterator, BpmnTaskIterator):
        step = iterator._next

        def counting(self: Any, step: Any = step) -> Any:
            visited[0] += 1
            return step(self)

        monkeypatch.setattr(iterator, "_next", counting)
    yield visited


def _visits(package: CompiledPackage, rounds: int, make: Callable[..., Any], visited: list[int]) -> int:
    workflow = _loop_tasks(package, rounds, make)
    before = visited[0]
    workflow.do_engine_steps()
    count = visited[0] - before
    assert workflow.is_completed() and workflow.data["counter"] == rounds
    return count


def test_work_per_round_does_not_grow_with_the_round_number(package: CompiledPackage,
                                                              tasks_visited: list[int]) -> None:
    short, long = _visits(package, 100, EngineWorkflow, tasks_visited), \
        _visits(package, 1000, EngineWorkflow, tasks_visited)
    # Two walks are left, each once per run over the five tasks of every round: the end
    # join's check for unfinished tasks and SpiffWorkflow's "workflow completed" log record.
    assert long / 1000 <= short / 100 * 1.1
    assert long / 1000 < 11

    # The same count on SpiffWorkflow's own workflow grows with every round: the measure can fail.
    raw_short, raw_long = _visits(package, 100, BpmnWorkflow, tasks_visited), \
        _visits(package, 300, BpmnWorkflow, tasks_visited)
    assert raw_long / 300 > 2.5 * raw_short / 100
