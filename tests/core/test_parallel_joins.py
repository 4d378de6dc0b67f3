"""Parallel joins (engine/core/joins.py): what each branch did survives the join, a join in
a loop waits for this round's branches, and the cost of a round does not grow with the loop."""

from __future__ import annotations

from typing import Any

from engine.bpmn.safe_xml import load_xml
from engine.core import joins
from engine.core.documents import Document
from engine.core.execution import Execution, make_script_engine
from engine.core.package import CompiledPackage, compile_package
from tests.fixtures import MODELS


def package(*names: str) -> CompiledPackage:
    docs = []
    for name in names:
        path = MODELS / name
        docs.append(Document(path.name, "bpmn", load_xml(path.read_bytes(), name=path.name, max_bytes=10**6,
                                                          max_depth=64)))
    compiled = compile_package(docs)
    assert compiled.report.deployable, compiled.report.problems
    return compiled


def roundtrip(execution: Execution, compiled: CompiledPackage, key: str) -> Execution:
    state, version = execution.dump()
    return Execution.restore(compiled, key, state, version, make_script_engine())


def test_each_branch_keeps_what_it_changed() -> None:
    compiled = package("joins/branch_updates.bpmn")
    execution = Execution.start(compiled, "branch_updates", {}, make_script_engine())
    execution.advance()
    assert execution.status == "completed"
    # SpiffWorkflow 3.2 by itself ends with status "new": the pricing branch's stale copy wins.
    assert execution.data == {"status": "reviewed", "fee": 120}


def test_a_join_in_a_loop_waits_for_this_rounds_person_and_survives_restores() -> None:
    compiled = package("joins/approval_rounds.bpmn")
    execution = Execution.start(compiled, "approval_rounds", {"rounds": 4}, make_script_engine())
    execution.advance()
    for round_no in range(4):
        execution = roundtrip(execution, compiled, "approval_rounds")
        [task] = execution.human_tasks()
        assert task.spec_id == "approve"
        # The stamp of this round is done, but the round must not end before the person acts.
        assert execution.data.get("approvals", []) == list(range(round_no))
        execution.complete_human_task(task.id, {"approved_round": round_no})
    assert execution.status == "completed"
    assert execution.data["approvals"] == [0, 1, 2, 3]
    assert execution.data["stamps"] == [0, 1, 2, 3]


def _visits(rounds: int) -> int:
    """Tasks the joins look at over a whole parallel loop (a count, not a clock)."""
    seen = 0
    original = joins._this_round

    def counting(spec: Any, my_task: Any) -> list[Any]:
        nonlocal seen
        found = original(spec, my_task)
        seen += len(found)
        return found

    joins._this_round = counting
    try:
        compiled = package("loops/parallel_loop.bpmn")
        execution = Execution.start(compiled, "parallel_loop", {"rounds": rounds}, make_script_engine())
        execution.advance()
        assert execution.status == "completed" and execution.data["seen"] == rounds
    finally:
        joins._this_round = original
    return seen


def test_join_work_per_round_does_not_grow_with_the_loop() -> None:
    per_round_small, per_round_large = _visits(50) / 50, _visits(500) / 500
    assert per_round_large <= per_round_small * 1.1, (per_round_small, per_round_large)
