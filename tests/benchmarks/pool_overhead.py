"""Benchmark (not a test): what handing one job to a model worker process costs.

Runs a job that only returns its payload, in this process and through `WorkerPool`, with a
payload the size of a stored business-licence state (about 6 KB) and a larger one, and
prints the microseconds per job and the difference (the pipe round trip, pickling both
ways, and the worker's cache lookup). Issue 11 asks for under 1 ms per change.

Usage: .venv/bin/python tests/benchmarks/pool_overhead.py [JOBS]   (default 2,000)
"""

from __future__ import annotations

import json
import sys
import time

from engine.core.worker_pool import PoolLimits, WorkerPool
from tests.core import pool_jobs


def _payload(size: int) -> dict[str, str]:
    return {"state": json.dumps({"tasks": "x" * size}), "version": "1.2"}


def main(jobs: int) -> None:
    pool: WorkerPool[object] = WorkerPool(PoolLimits(workers=1))
    try:
        pool.run(pool_jobs.echo, pool_jobs.build, "package", lambda: "source", None)  # start and build once
        print(f"{'payload':>10} {'in process us':>14} {'in a worker us':>15} {'overhead us':>12}")
        for size in (6_000, 60_000):
            payload = _payload(size)
            started = time.perf_counter()
            for _ in range(jobs):
                pool_jobs.echo({"source": "source"}, payload)
            local = (time.perf_counter() - started) / jobs * 1e6
            started = time.perf_counter()
            for _ in range(jobs):
                pool.run(pool_jobs.echo, pool_jobs.build, "package", lambda: "source", payload)
            remote = (time.perf_counter() - started) / jobs * 1e6
            print(f"{size:>10,} {local:>14.1f} {remote:>15.1f} {remote - local:>12.1f}")
    finally:
        pool.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
