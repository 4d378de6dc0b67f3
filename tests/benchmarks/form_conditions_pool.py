"""Benchmark (not a test): what a form's hide conditions cost here, and what a model worker would add.

Hide conditions run in the serving process under a step budget (forms/conditions.py says why).
This prints, per call of `hidden_fields` (what a page render does; validation costs the same):
microseconds in this process (wall clock, and CPU time, which a busy machine does not stretch),
and through a `WorkerPool` with the form's conditions cached in the worker by key (only the
answers travel, as they would for a real request kind), for

- the permit form of the tests (Camunda Forms, two conditions), with a complete answer;
- 50 conditions testing three fields each, over a repeated group of 100 items (40,000 steps);
- a deployable hostile form (32 conditions of 300 terms) over 20 items: refused by the budget.

Usage: .venv/bin/python tests/benchmarks/form_conditions_pool.py [CALLS]   (default 300)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.core.worker_pool import PoolLimits, WorkerPool
from forms.conditions import hidden_fields
from forms.feel import translate
from forms.formjs import formjs_form
from tests.core import pool_jobs

DATA = Path(__file__).resolve().parents[1] / "forms" / "data"
PERMIT_ANSWER = {"full_name": "سارا احمدی", "national_code": "0013542419", "area": 45, "has_lease": False,
                 "activity": "retail", "services": ["take_away"], "postal_code": "1193653471", "refund": False}


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    permit = formjs_form(json.loads((DATA / "permit.form").read_text(encoding="utf-8")), "permit-form")
    typical = {f"items.q{i}": translate('=kind = "x" and age > 18 or not(flag)') for i in range(50)}
    items = [{**{f"q{i}": 1 for i in range(50)}, "kind": "y", "age": 20, "flag": True} for _ in range(100)]
    hostile = {f"items.v{j}": translate("=" + " or ".join(['a = "1"'] * 300)) for j in range(32)}
    return [("permit form", permit["ui"]["hidden_when"], PERMIT_ANSWER),
            ("50 conditions x 100 items", typical, {"items": items}),
            ("hostile, 20 items (refused)", hostile, {"items": [{"v0": "x", "a": "2"}] * 20})]


def _per_call(calls: int, run: Callable[[], object]) -> tuple[float, float]:
    """Median and 95th percentile, in microseconds."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main(calls: int) -> None:
    pool: WorkerPool[Any] = WorkerPool(PoolLimits(workers=1))
    try:
        print(f"{'case':<30} {'here us (p50/p95)':>20} {'here CPU us':>12} {'in a worker us (p50/p95)':>26} "
              f"{'added us':>9}")
        for name, hidden_when, data in _cases():
            def remote(hidden_when: dict[str, Any] = hidden_when, data: dict[str, Any] = data,
                       key: str = name) -> object:
                return pool.run(pool_jobs.hidden_fields_job, pool_jobs.form_conditions, key,
                                lambda: hidden_when, data)

            remote()  # the worker caches the form's conditions once, as it would a package
            cpu = time.process_time()
            here = _per_call(calls, lambda hidden_when=hidden_when, data=data: hidden_fields(data, hidden_when))
            cpu = (time.process_time() - cpu) / calls * 1e6  # unlike the clock, not stretched by a busy machine
            there = _per_call(calls, remote)
            print(f"{name:<30} {here[0]:>9.0f} / {here[1]:>8.0f} {cpu:>12.0f} {there[0]:>12.0f} / {there[1]:>11.0f} "
                  f"{there[0] - here[0]:>9.0f}")
    finally:
        pool.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
