"""Benchmark (not a test): how a loop's cost grows with its rounds.

Runs two loops from tests/models/loops/: gateway_loop.bpmn (a script task counting, an
exclusive gateway looping back) and parallel_loop.bpmn (each round splits in two parallel
branches and joins them again), for 10, 100 and 1,000 rounds (and 5,000 with --long), on
raw SpiffWorkflow (its own parser and `BpmnWorkflow`) and on our engine (our parser, with
its parallel join, and `EngineWorkflow`), side by side, and prints per run: tasks in the
tree, time of the one `do_engine_steps` that runs the whole loop, ms per round, the growth
of ms per round from one size to the next (1.0 = linear), state size and dump/restore time.
Raw SpiffWorkflow at 5,000 rounds takes minutes; --long runs it only with --raw-long.

Usage: .venv/bin/python tests/benchmarks/loop_growth.py [--long] [--raw-long]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.safe_xml import load_xml
from engine.core.documents import Document
from engine.core.execution import make_script_engine
from engine.core.package import CompiledPackage, compile_package
from engine.core.serialization import SERIALIZER_VERSION, dump_state, load_state
from engine.core.workflow import EngineWorkflow

MODELS = Path(__file__).resolve().parents[1] / "models" / "loops"
LOOPS = ("gateway_loop", "parallel_loop")


def specs(key: str, kind: type[Any]) -> tuple[Any, dict[str, Any]]:
    """The spec as raw SpiffWorkflow parses it (for `BpmnWorkflow`), or as our engine does."""
    path = MODELS / f"{key}.bpmn"
    if kind is BpmnWorkflow:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(path))
        return parser.get_spec(key), parser.get_subprocess_specs(key)
    root = load_xml(path.read_bytes(), name=path.name, max_bytes=1_000_000, max_depth=64)
    package: CompiledPackage = compile_package([Document(path.name, "bpmn", root)])
    return package.spec(key)


def measure(key: str, kind: type[Any], rounds: int) -> dict[str, float]:
    spec, subprocess_specs = specs(key, kind)
    workflow = kind(spec, subprocess_specs, script_engine=make_script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update({"rounds": rounds, "pause_at": 0})
    start = time.perf_counter()
    workflow.do_engine_steps()
    engine = time.perf_counter() - start
    assert workflow.is_completed() and workflow.data["counter"] == rounds
    # In the parallel loop each round must see both branches' values of that round.
    correct = key != "parallel_loop" or workflow.data["seen"] == rounds
    start = time.perf_counter()
    state = dump_state(workflow)
    dumped = time.perf_counter() - start
    start = time.perf_counter()
    load_state(state, SERIALIZER_VERSION, spec, subprocess_specs)
    loaded = time.perf_counter() - start
    return {"tasks": len(workflow.tasks), "engine": engine, "per_round": engine * 1000 / rounds,
            "kb": len(state) / 1024, "dump": dumped * 1000, "load": loaded * 1000, "correct": correct}


def main() -> None:
    sizes = [10, 100, 1000] + ([5000] if "--long" in sys.argv else [])
    for key in LOOPS:
        print(f"\n{key}")
        print(f"{'rounds':>6} {'workflow':<14} {'tasks':>6} {'engine s':>9} {'ms/round':>9} {'growth':>7} "
              f"{'state KB':>9} {'dump ms':>8} {'load ms':>8}  data")
        for kind in (BpmnWorkflow, EngineWorkflow):
            previous = None
            for rounds in sizes:
                if kind is BpmnWorkflow and rounds > 1000 and "--raw-long" not in sys.argv:
                    print(f"{rounds:>6} {kind.__name__:<14} {'skipped (minutes; pass --raw-long)':>40}")
                    continue
                try:
                    row = measure(key, kind, rounds)
                except RecursionError:
                    print(f"{rounds:>6} {kind.__name__:<14} {'fails: RecursionError in the join':>40}")
                    continue
                growth = f"{row['per_round'] / previous:7.2f}" if previous else f"{'-':>7}"
                previous = row["per_round"]
                print(f"{rounds:>6} {kind.__name__:<14} {row['tasks']:>6.0f} {row['engine']:>9.3f} "
                      f"{row['per_round']:>9.3f} {growth} {row['kb']:>9.1f} {row['dump']:>8.1f} "
                      f"{row['load']:>8.1f}  {'right' if row['correct'] else 'WRONG'}", flush=True)
    print("\ngrowth = ms per round divided by that of the previous size; 1.0 means linear in rounds")
    print("data = whether the final data is what the model computes (raw SpiffWorkflow's parallel join "
          "lets a branch's stale copy of a variable overwrite what the other branch set)")


if __name__ == "__main__":
    main()
