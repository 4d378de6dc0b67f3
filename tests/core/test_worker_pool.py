"""The model worker pool: jobs run in other processes, bounded in time and memory.

A job that makes one C call for ever is killed at the wall-clock limit and its worker
replaced; one that allocates past the address-space limit fails there, not here; a worker
that dies is reported and replaced; each worker builds a package once per key. The
serving process is never the one that pays.
"""

from __future__ import annotations

import resource
import threading
from collections.abc import Iterator

import pytest

from engine.core.worker_pool import JobFailed, JobKilled, PoolLimits, WorkerPool
from tests.core import pool_jobs


@pytest.fixture
def pool() -> Iterator[WorkerPool[object]]:
    made: WorkerPool[object] = WorkerPool(PoolLimits(workers=2, memory_bytes=400 * 2**20, wall_seconds=2.0))
    yield made
    made.close()


def _echo(pool: WorkerPool[object], key: str, payload: object) -> tuple[object, object, int]:
    answer = pool.run(pool_jobs.echo, pool_jobs.build, key, lambda: f"source of {key}", payload)
    assert isinstance(answer, list)  # answers come back as JSON
    return answer[0], answer[1], answer[2]


def test_a_job_runs_in_another_process_against_its_cached_package(pool: WorkerPool[object]) -> None:
    source, payload, pid = _echo(pool, "deployment-1", {"state": "x" * 6000})
    assert source == "source of deployment-1" and payload == {"state": "x" * 6000}
    import os

    assert pid != os.getpid()
    for _ in range(5):
        _echo(pool, "deployment-1", 1)
    # One worker served every call one after another, so it built the package once.
    assert pool.stats.misses == 1 and pool.stats.jobs == 6
    _echo(pool, "deployment-2", 1)
    assert pool.stats.misses == 2


def test_one_endless_c_call_is_killed_and_the_caller_is_free_meanwhile(pool: WorkerPool[object]) -> None:
    other_work: list[str] = []

    def meanwhile() -> None:
        # Runs while the job's C call goes on: the waiting caller holds no lock others need.
        other_work.append(_echo(pool, "deployment-1", "still served")[1])  # type: ignore[arg-type]

    helper = threading.Thread(target=meanwhile)
    with pytest.raises(JobKilled, match=r"stopped after 2 s"):
        helper.start()
        pool.run(pool_jobs.one_long_c_call, pool_jobs.build, "deployment-1", lambda: "s", None)
    helper.join()
    assert other_work == ["still served"]
    assert pool.stats.killed == 1
    # The killed worker was replaced: the pool still has its workers.
    assert _echo(pool, "deployment-1", "after")[1] == "after"


def test_memory_past_the_limit_fails_in_the_worker_not_here(pool: WorkerPool[object]) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(JobFailed, match="MemoryError: over the worker's memory limit of 400 MB"):
        pool.run(pool_jobs.grab_memory, pool_jobs.build, "deployment-1", lambda: "s", 2 * 2**30)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB
    assert pool.run(pool_jobs.grab_memory, pool_jobs.build, "deployment-1", lambda: "s", 10 * 2**20) == 10 * 2**20


def test_a_worker_that_dies_is_reported_and_replaced(pool: WorkerPool[object]) -> None:
    with pytest.raises(JobKilled, match=r"died \(exit code 3\)"):
        pool.run(pool_jobs.crash, pool_jobs.build, "deployment-1", lambda: "s", None)
    assert pool.stats.died == 1
    assert _echo(pool, "deployment-1", "after")[1] == "after"


def test_a_job_that_raises_keeps_its_worker(pool: WorkerPool[object]) -> None:
    pid = _echo(pool, "deployment-1", 1)[2]
    with pytest.raises(JobFailed, match="ValueError: refused 7") as failed:
        pool.run(pool_jobs.fail, pool_jobs.build, "deployment-1", lambda: "s", 7)
    assert failed.value.kind == "ValueError" and "pool_jobs.py" in failed.value.trace
    assert _echo(pool, "deployment-1", 1)[2] == pid


def test_an_answer_that_is_not_json_is_the_jobs_failure(pool: WorkerPool[object]) -> None:
    with pytest.raises(JobFailed, match="TypeError: Object of type set is not JSON serializable"):
        pool.run(pool_jobs.not_json, pool_jobs.build, "deployment-1", lambda: "s", None)


def test_more_callers_than_workers_all_get_their_answer(pool: WorkerPool[object]) -> None:
    answers: list[object] = []
    lock = threading.Lock()

    def call(n: int) -> None:
        for i in range(10):
            got = _echo(pool, f"deployment-{n % 3}", (n, i))[1]
            with lock:
                answers.append(got)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(tuple, answers)) == sorted((n, i) for n in range(6) for i in range(10))  # type: ignore[arg-type]
    assert pool.stats.started == 2
