"""Benchmark (not a test): how a gateway loop's cost grows with its rounds.

Runs tests/models/loops/gateway_loop.bpmn (a script task counting, an exclusive gateway
looping back) for 10, 100 and 1,000 rounds (and 5,000 with --long) on SpiffWorkflow's own
`BpmnWorkflow` and on our `EngineWorkflow`, side by side, and prints per run: tasks in the
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
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.safe_xml import load_xml
from engine.core.package import CompiledPackage, Document, compile_package
from engine.core.runtime import make_script_engine
from engine.core.serialization import SERIALIZER_VERSION, dump_state, load_state
from engine.core.workflow import EngineWorkflow

MODEL = Path(__file__).resolve().parents[1] / "models" / "loops" / "gateway_loop.bpmn"
KEY = "gateway_loop"


def compiled() -> CompiledPackage:
    root = load_xml(MODEL.read_bytes(), name=MODEL.name, max_bytes=1_000_000, max_depth=64)
    return compile_package([Document(MODEL.name, "bpmn", root)])


def measure(package: CompiledPackage, kind: type[Any], rounds: int) -> dict[str, float]:
    spec, subprocess_specs = package.spec(KEY)
    workflow = kind(spec, subprocess_specs, script_engine=make_script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update({"rounds": rounds, "pause_at": 0})
    start = time.perf_counter()
    workflow.do_engine_steps()
    engine = time.perf_counter() - start
    assert workflow.is_completed() and workflow.data["counter"] == rounds
    start = time.perf_counter()
    state = dump_state(workflow)
    dumped = time.perf_counter() - start
    start = time.perf_counter()
    load_state(state, SERIALIZER_VERSION, spec, subprocess_specs)
    loaded = time.perf_counter() - start
    return {"tasks": len(workflow.tasks), "engine": engine, "per_round": engine * 1000 / rounds,
            "kb": len(state) / 1024, "dump": dumped * 1000, "load": loaded * 1000}


def main() -> None:
    sizes = [10, 100, 1000] + ([5000] if "--long" in sys.argv else [])
    package = compiled()
    print(f"{'rounds':>6} {'workflow':<14} {'tasks':>6} {'engine s':>9} {'ms/round':>9} {'growth':>7} "
          f"{'state KB':>9} {'dump ms':>8} {'load ms':>8}")
    for kind in (BpmnWorkflow, EngineWorkflow):
        previous = None
        for rounds in sizes:
            if kind is BpmnWorkflow and rounds > 1000 and "--raw-long" not in sys.argv:
                print(f"{rounds:>6} {kind.__name__:<14} {'skipped (minutes; pass --raw-long)':>40}")
                continue
            row = measure(package, kind, rounds)
            growth = f"{row['per_round'] / previous:7.2f}" if previous else f"{'-':>7}"
            previous = row["per_round"]
            print(f"{rounds:>6} {kind.__name__:<14} {row['tasks']:>6.0f} {row['engine']:>9.3f} "
                  f"{row['per_round']:>9.3f} {growth} {row['kb']:>9.1f} {row['dump']:>8.1f} "
                  f"{row['load']:>8.1f}", flush=True)
    print("\ngrowth = ms per round divided by that of the previous size; 1.0 means linear in rounds")


if __name__ == "__main__":
    main()
