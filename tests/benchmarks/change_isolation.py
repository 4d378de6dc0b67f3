"""Benchmark (not a test): what running a change in a model worker process costs.

Starts the business licence (its start parks the first registry calls: a typical change,
with a state of a few KB) in this process with `run_change` and through `IsolatedChanges`
(one warm worker, the package already built there), and prints the milliseconds per change
and the difference: the pipe, pickling the change, and reading the snapshot back as JSON.
Issue 11 asks for under 1 ms of overhead per change.

Usage: .venv/bin/python tests/benchmarks/change_isolation.py [CHANGES]   (default 300)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from engine.core.changes import ChangeLimits, Start
from engine.core.isolated_changes import IsolatedChanges
from engine.core.snapshot import run_change
from engine.core.worker_pool import PoolLimits, WorkerPool
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings

SERVICE = Path(__file__).resolve().parents[2] / "processes" / "business_licence"
LIMITS = ChangeLimits(max_steps=10_000, max_seconds=30)
DATA = {"applicant_national_code": "0499370899"}


def main(changes: int) -> None:
    models = [path for path in sorted(SERVICE.iterdir()) if path.suffix in (".bpmn", ".dmn", ".json")]
    files = [UploadedFile(path.name, path.read_bytes()) for path in models]
    loaded, report = check(files, Settings())
    assert loaded is not None, report.problems
    package = loaded.compiled
    key = next(k for k, info in package.processes.items() if info.executable)
    pool: WorkerPool[Any] = WorkerPool(PoolLimits(workers=1))
    isolated = IsolatedChanges(pool)
    try:
        first = isolated.run(package, key, None, Start(DATA), LIMITS)
        assert first is not None
        print(f"state {len(first.state):,} characters, status {first.status}")
        started = time.perf_counter()
        for _ in range(changes):
            run_change(package, key, None, Start(DATA), LIMITS)
        here = (time.perf_counter() - started) / changes * 1000
        started = time.perf_counter()
        for _ in range(changes):
            isolated.run(package, key, None, Start(DATA), LIMITS)
        there = (time.perf_counter() - started) / changes * 1000
        print(f"{'in process ms':>14} {'in a worker ms':>15} {'overhead ms':>12} {'ratio':>6}")
        print(f"{here:>14.2f} {there:>15.2f} {there - here:>12.2f} {there / here:>6.2f}")
    finally:
        pool.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
