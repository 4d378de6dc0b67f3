"""A change run in a model worker process gives what it gives here, and only its worker pays.

The same `run_change`, behind a process boundary: the snapshot read back (as JSON, into the
snapshot's own classes) matches the one run in this process; a change whose code runs past
the wall-clock limit is killed, one that allocates past the address space fails there, and
either way the next change runs in a fresh worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from engine.core.changes import ChangeLimits, CompleteTask, Start
from engine.core.errors import TaskStateError
from engine.core.isolated_changes import InProcessChanges, IsolatedChanges
from engine.core.package import CompiledPackage
from engine.core.package_source import compile_source, package_source
from engine.core.sandbox import SandboxLimits
from engine.core.snapshot import Snapshot, run_change
from engine.core.worker_pool import JobKilled, PoolLimits, WorkerPool
from engine.core.working_calendar import Overrides, WorkingCalendar
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.fixtures import MODELS
from tests.importer.bpmn_text import flow, model, script

LIMITS = ChangeLimits(max_steps=10_000, max_seconds=30)


def _package(document: bytes, name: str = "m.bpmn") -> CompiledPackage:
    loaded, report = check([UploadedFile(name, document)], Settings())
    assert loaded is not None, report.problems
    return loaded.compiled


def _script_model(code: str) -> CompiledPackage:
    return _package(model("\n".join([
        '<bpmn:startEvent id="s" />', script("work", code), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "work"), flow("f1", "work", "e")])))


@pytest.fixture
def changes() -> Iterator[IsolatedChanges]:
    pool: WorkerPool[Any] = WorkerPool(PoolLimits(workers=1, memory_bytes=700 * 2**20, wall_seconds=3.0))
    yield IsolatedChanges(pool)
    pool.close()


def _same(here: Snapshot | None, there: Snapshot | None) -> None:
    assert here is not None and there is not None
    # Task ids are random, so the states differ; everything read out of them must not.
    assert (there.status, there.error, there.data) == (here.status, here.error, here.data)
    assert [t.spec_id for t in there.human_tasks] == [t.spec_id for t in here.human_tasks]
    assert [c.spec_id for c in there.service_calls] == [c.spec_id for c in here.service_calls]
    assert [s.spec_id for s in there.steps] == [s.spec_id for s in here.steps]
    assert len(there.timer_waits) == len(here.timer_waits)


def test_a_change_in_a_worker_matches_the_same_change_here(changes: IsolatedChanges) -> None:
    package = _package((MODELS / "approval.bpmn").read_bytes(), "approval.bpmn")
    start = Start({})
    here = run_change(package, "approval", None, start, LIMITS)
    there = changes.run(package, "approval", None, start, LIMITS)
    _same(here, there)
    assert there is not None
    [task] = there.human_tasks
    answer = CompleteTask(task.id, {"amount": 5000, "purpose": "school", "channel": "both"})
    after = changes.run(package, "approval", there.stored, answer, LIMITS)
    locally = run_change(package, "approval", there.stored, answer, LIMITS)
    _same(locally, after)
    # One worker, one package built for both changes.
    assert changes.pool.stats.misses == 1
    with pytest.raises(TaskStateError):
        changes.run(package, "approval", there.stored, CompleteTask("no-such-task", {}), LIMITS)


def test_the_package_a_worker_builds_runs_like_the_deployed_one() -> None:
    package = _package((MODELS / "counter_loop.bpmn").read_bytes(), "counter_loop.bpmn")
    rebuilt = compile_source(package_source(package))
    assert rebuilt.report.deployable
    for compiled in (package, rebuilt):
        snapshot = run_change(compiled, "counter_loop", None, Start({"rounds": 7}), LIMITS)
        assert snapshot is not None and snapshot.status == "completed" and snapshot.data["counter"] == 7


def test_code_running_past_the_wall_clock_is_killed_and_the_next_change_runs(changes: IsolatedChanges) -> None:
    # A CPU limit far above the wall-clock one: only the kill can stop this loop in time.
    patient = ChangeLimits(max_steps=10_000, max_seconds=600, sandbox=SandboxLimits(cpu_seconds=600))
    endless = _script_model("x = 0\nwhile True:\n    x = 1")
    with pytest.raises(JobKilled, match="stopped after 3 s"):
        changes.run(endless, "p", None, Start({}), patient)
    quick = _script_model("x = 2")
    done = changes.run(quick, "p", None, Start({}), LIMITS)
    assert done is not None and done.status == "completed" and done.data["x"] == 2


def test_memory_past_the_workers_address_space_fails_there(changes: IsolatedChanges) -> None:
    # The sandbox's own per-run memory check is lifted, so the address-space limit is what stops it.
    roomy = ChangeLimits(max_steps=10_000, max_seconds=600,
                         sandbox=SandboxLimits(cpu_seconds=60, max_memory_bytes=2**40))
    greedy = _script_model("a = ['x' * 100000 + str(i) for i in range(20000)]")
    failed = changes.run(greedy, "p", None, Start({}), roomy)
    # The script's MemoryError fails the instance, as any failing script does.
    assert failed is not None and failed.status == "failed" and "MemoryError" in (failed.error or "")
    done = changes.run(_script_model("x = 3"), "p", None, Start({}), LIMITS)
    assert done is not None and done.data["x"] == 3


def _timer_start_model(timer: str, expression: str) -> CompiledPackage:
    return _package(model("\n".join([
        f'<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:{timer}>{expression}</bpmn:{timer}>'
        '</bpmn:timerEventDefinition></bpmn:startEvent>', '<bpmn:endEvent id="e" />', flow("f0", "s", "e")])))


NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


def test_a_timer_start_planned_in_a_worker_matches_the_one_planned_here(changes: IsolatedChanges) -> None:
    for timer, expression in (("timeCycle", '"R3/2030-01-02T09:00:00Z/PT1H"'), ("timeDuration", '"PT90M"'),
                              ("timeDate", '"2030-02-01T00:00:00Z"')):
        package = _timer_start_model(timer, expression)
        here = InProcessChanges().plan_timer_start(package, "p", "s", NOW, SandboxLimits())
        assert changes.plan_timer_start(package, "p", "s", NOW, SandboxLimits()) == here
    assert changes.plan_timer_start(package, "p", "s", NOW, SandboxLimits()).first_due == datetime(
        2030, 2, 1, tzinfo=UTC)
    # The worker built each package once, and planned the last one twice from its cache.
    assert changes.pool.stats.misses == 3


def test_a_timer_start_counts_working_days_on_the_configured_calendar(changes: IsolatedChanges) -> None:
    """`working_days_after` in a timer start event skips the holidays the official calendar file
    adds, in a worker as here: the calendar travels with the request."""
    package = _timer_start_model("timeDate", 'working_days_after("2030-01-01T08:00:00+00:00", 1)')
    holiday = WorkingCalendar(overrides=Overrides(added=((date(2030, 1, 2), "تعطیل رسمی"),)))
    usual = InProcessChanges().plan_timer_start(package, "p", "s", NOW, SandboxLimits())
    here = InProcessChanges().plan_timer_start(package, "p", "s", NOW, SandboxLimits(), holiday)
    assert usual.first_due.date() == date(2030, 1, 2) and here.first_due.date() == date(2030, 1, 3)
    assert changes.plan_timer_start(package, "p", "s", NOW, SandboxLimits(), holiday) == here


def test_a_timer_start_expression_that_fails_says_why(changes: IsolatedChanges) -> None:
    package = _timer_start_model("timeDuration", '"PT" + str(1 / 0) + "M"')
    with pytest.raises(ValueError, match="division by zero"):
        changes.plan_timer_start(package, "p", "s", NOW, SandboxLimits())
    with pytest.raises(ValueError, match="no timer start event 'e'"):
        changes.plan_timer_start(package, "p", "e", NOW, SandboxLimits())


def test_a_timer_start_expression_that_never_ends_is_killed() -> None:
    # Only the wall clock can stop it: its CPU limit is far above the pool's six seconds (not
    # three, as above: the clock also covers the fresh worker's imports and compile afterwards).
    pool: WorkerPool[Any] = WorkerPool(PoolLimits(workers=1, wall_seconds=6.0))
    changes = IsolatedChanges(pool)
    try:
        endless = _timer_start_model(
            "timeDuration", '"PT" + str(sum(1 for i in range(10**6) for j in range(10**6))) + "S"')
        with pytest.raises(JobKilled, match="stopped after 6 s"):
            changes.plan_timer_start(endless, "p", "s", NOW, SandboxLimits(cpu_seconds=600))
        quick = _timer_start_model("timeDuration", '"PT1M"')
        assert changes.plan_timer_start(quick, "p", "s", NOW, SandboxLimits()).first_due == datetime(
            2030, 1, 1, 8, 1, tzinfo=UTC)
    finally:
        pool.close()
