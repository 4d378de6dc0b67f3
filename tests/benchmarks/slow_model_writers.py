"""Benchmark (not a test): how long other writers wait while one slow model runs.

On a fresh SQLite database with real model workers, one task completion runs a script that
loops for about `SECONDS` (calibrated on this machine first), while another thread completes
tasks of other instances one after another and times each. Both ways a change can be
written are measured:

- in place: the work in one `runtime.unit_of_work()`, the model code inside the write
  transaction (how every change was written before `engine.services.rehearsal`);
- rehearsed: the same work through `run_rehearsed`, the model code between two transactions.

Printed per way: how long the slow completion took, how many other completions committed
while it ran, their latency (median, 95th percentile, worst) and how many were refused
(the database stayed locked past PANJEREH_DATABASE_TIMEOUT_SECONDS, 10 s by default: 503);
and, first, what one quick completion costs with no slow model running (its wall time, and
the CPU time of this process, which shows what the rehearsal's extra round costs). Both model
workers are started and have built both packages before anything is timed.

Usage: .venv/bin/python tests/benchmarks/slow_model_writers.py [SECONDS]   (default 2.5)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.compose import build_runtime
from engine.core.statuses import TaskStatus
from engine.db.models import HumanTaskRow
from engine.security.principals import Principal, Role
from engine.services import deployments, instances, queries
from engine.services.errors import Unavailable
from engine.services.rehearsal import run_rehearsed
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model, script

ADMIN = Principal(Role.ADMIN, "bench")
SLOW = model("\n".join([
    '<bpmn:startEvent id="s" />', '<bpmn:userTask id="ask" name="Answer" />',
    script("spin", "n = 0\nwhile n &lt; loops:\n    n = n + 1"), '<bpmn:endEvent id="e" />',
    flow("f0", "s", "ask"), flow("f1", "ask", "spin"), flow("f2", "spin", "e"),
]), key="slow")
QUICK = model("\n".join([
    '<bpmn:startEvent id="s" />', '<bpmn:userTask id="ask" name="Answer" />', script("add", "total = 2 + 2"),
    '<bpmn:endEvent id="e" />', flow("f0", "s", "ask"), flow("f1", "ask", "add"), flow("f2", "add", "e"),
]), key="quick")
QUICK_INSTANCES = 600
ALONE = 40

Write = Callable[[Runtime, Callable[[Session], Any]], Any]


def in_place(runtime: Runtime, work: Callable[[Session], Any]) -> Any:
    with runtime.unit_of_work() as session:
        return work(session)


def _start(runtime: Runtime, key: str, data: dict[str, Any]) -> str:
    with runtime.unit_of_work() as session:
        instance = instances.start(session, runtime, ADMIN, key, data)
        [task] = [t.id for t in instance_tasks(session, instance.id)]
        return task


def instance_tasks(session: Session, instance_id: str) -> list[HumanTaskRow]:
    return list(queries.list_tasks(session, ADMIN, instance_id, TaskStatus.READY))


def _complete(runtime: Runtime, write: Write, task_id: str) -> None:
    def work(session: Session) -> None:
        row = queries.load_task(session, ADMIN, task_id, for_update=True)
        instances.complete_task(session, runtime, ADMIN, row, {})

    write(runtime, work)


def _timed(runtime: Runtime, write: Write, task_id: str) -> float:
    started = time.perf_counter()
    _complete(runtime, write, task_id)
    return time.perf_counter() - started


def _runtime(folder: Path) -> Runtime:
    settings = Settings(var_dir=folder, database_url=f"sqlite:///{folder / 'bench.db'}",
                        deploy_processes_on_start=False, model_workers=2, script_cpu_seconds=600.0,
                        max_change_seconds=600.0, model_wall_seconds=600.0, max_steps_per_change=10_000_000)
    runtime = build_runtime(settings)
    with runtime.unit_of_work() as session:
        deployments.deploy(session, runtime, [deployments.UploadedFile("slow.bpmn", SLOW),
                                              deployments.UploadedFile("quick.bpmn", QUICK)], "bench")
    return runtime


def _calibrate(runtime: Runtime, seconds: float) -> int:
    loops = 200_000
    took = _timed(runtime, run_rehearsed, _start(runtime, "slow", {"loops": loops}))
    return max(1, round(loops * seconds / took))


def _measure(runtime: Runtime, write: Write, loops: int, quick: list[str]) -> dict[str, Any]:
    slow_task = _start(runtime, "slow", {"loops": loops})
    latencies: list[float] = []
    refused = 0
    finished = threading.Event()
    slow_took: list[float] = []

    def slow() -> None:
        slow_took.append(_timed(runtime, write, slow_task))
        finished.set()

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)  # the slow change is in its model code by now
    while not finished.is_set() and quick:
        task = quick.pop()
        try:
            latencies.append(_timed(runtime, write, task))
        except Unavailable:
            refused += 1
    thread.join()
    return {"slow_s": slow_took[0], "latencies": latencies, "refused": refused}


def _row(name: str, result: dict[str, Any]) -> str:
    ms = sorted(x * 1000 for x in result["latencies"])
    if not ms:
        return f"{name:<11} {result['slow_s']:>7.2f} {0:>9} {'-':>9} {'-':>9} {'-':>9} {result['refused']:>8}"
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (f"{name:<11} {result['slow_s']:>7.2f} {len(ms):>9} {statistics.median(ms):>9.1f} {p95:>9.1f} "
            f"{ms[-1]:>9.1f} {result['refused']:>8}")


def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtime = _runtime(Path(folder))
        try:
            loops = _calibrate(runtime, seconds)
            quick = [_start(runtime, "quick", {}) for _ in range(QUICK_INSTANCES)]
            # Both workers started, each with both packages built, before anything is timed.
            for _ in range(2):
                _measure(runtime, run_rehearsed, loops // 5, quick)
            alone: dict[str, list[float]] = {"in place": [], "rehearsed": []}
            cpu = dict.fromkeys(alone, 0.0)
            for _ in range(ALONE):
                for way, write in (("in place", in_place), ("rehearsed", run_rehearsed)):
                    before = time.process_time()
                    alone[way].append(_timed(runtime, write, quick.pop()))
                    cpu[way] += time.process_time() - before
            print(f"a quick completion alone ({ALONE} each, interleaved), median wall ms / mean CPU ms of this "
                  f"process: in place {statistics.median(alone['in place']) * 1000:.1f} / "
                  f"{cpu['in place'] / ALONE * 1000:.1f}, rehearsed {statistics.median(alone['rehearsed']) * 1000:.1f}"
                  f" / {cpu['rehearsed'] / ALONE * 1000:.1f}")
            print(f"slow model: {loops:,} loops, about {seconds:g} s")
            print(f"{'written':<11} {'slow s':>7} {'others':>9} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} "
                  f"{'refused':>8}")
            for name, write in (("in place", in_place), ("rehearsed", run_rehearsed)):
                print(_row(name, _measure(runtime, write, loops, quick)), flush=True)
        finally:
            runtime.close()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.5)
