"""A change runs on an instance as a pure function: package, stored state and change in,
a picklable snapshot out (what `engine.services.instance_store` saves).

So the same function can run in a worker process: the last test runs it in one, handing
over nothing but the model files, the stored state and the change.
"""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from engine.core.changes import ChangeLimits, CompleteTask, ServiceError, ServiceResult, Start, Terminate
from engine.core.package import CompiledPackage
from engine.core.snapshot import Snapshot, StoredState, run_change
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.fixtures import MODELS

LIMITS = ChangeLimits(max_steps=1000, max_seconds=30.0)
KEY = "registry_fallback"
# The fallback path's user task becomes a script that fails: a script failing after a caught
# service error must fail the instance, not the change.
BROKEN_FALLBACK = ('<bpmn:userTask id="upload_birth_certificate" name="Upload your birth certificate">',
                   '<bpmn:scriptTask id="upload_birth_certificate" name="Check the birth date">'
                   '<bpmn:script>birth_year = 1 / 0</bpmn:script>')


def _compiled(text: str | None = None) -> CompiledPackage:
    source = text if text is not None else (MODELS / "registry_fallback.bpmn").read_text(encoding="utf-8")
    loaded, report = check([UploadedFile("registry_fallback.bpmn", source.encode())], Settings())
    assert loaded is not None, report.problems
    return loaded.compiled


def _started(package: CompiledPackage) -> Snapshot:
    snapshot = run_change(package, KEY, None, Start({"national_code": "0013542419"}), LIMITS)
    assert snapshot is not None
    return snapshot


def test_a_start_runs_until_the_instance_waits_and_its_snapshot_pickles() -> None:
    snapshot = _started(_compiled())
    assert snapshot.status == "waiting" and snapshot.error is None
    [call] = snapshot.service_calls
    assert (call.spec_id, call.operation, call.params) == ("fetch", "civil_registry/person_by_national_code",
                                                           {"national_code": "0013542419"})
    assert snapshot.human_tasks == () and snapshot.thrown == ()
    assert [step.spec_id for step in snapshot.steps] == ["f_start"]
    assert pickle.loads(pickle.dumps(snapshot)) == snapshot
    change = ServiceResult(call.task_id, {"name": "Sara"})
    assert pickle.loads(pickle.dumps(change)) == change


def test_a_result_completes_the_instance_from_its_stored_state() -> None:
    package = _compiled()
    started = _started(package)
    [call] = started.service_calls
    done = run_change(package, KEY, started.stored, ServiceResult(call.task_id, {"name": "Sara"}), LIMITS)
    assert done is not None
    assert done.status == "completed" and done.data["person"] == {"name": "Sara"}
    assert done.service_calls == () and done.timer_waits == ()


def test_an_error_no_event_catches_is_not_taken() -> None:
    package = _compiled()
    started = _started(package)
    [call] = started.service_calls
    assert run_change(package, KEY, started.stored, ServiceError(call.task_id, "registry-down", "timeout"),
                      LIMITS) is None
    caught = run_change(package, KEY, started.stored, ServiceError(call.task_id, "not-found", "no such person"),
                        LIMITS)
    assert caught is not None
    assert [task.spec_id for task in caught.human_tasks] == ["upload_birth_certificate"]


def test_a_script_failing_after_a_caught_error_fails_the_instance_and_keeps_the_catch() -> None:
    original = (MODELS / "registry_fallback.bpmn").read_text(encoding="utf-8")
    package = _compiled(original.replace(*BROKEN_FALLBACK).replace("</bpmn:userTask>", "</bpmn:scriptTask>"))
    started = _started(package)
    [call] = started.service_calls
    failed = run_change(package, KEY, started.stored, ServiceError(call.task_id, "not-found", "no such person"),
                        LIMITS)
    assert failed is not None
    assert failed.status == "failed" and failed.error is not None and "Check the birth date" in failed.error
    assert failed.service_calls == ()


def test_a_completed_task_keeps_the_answers_when_the_next_script_fails() -> None:
    package = _compiled()
    started = _started(package)
    [call] = started.service_calls
    caught = run_change(package, KEY, started.stored, ServiceError(call.task_id, "not-found", "no such person"),
                        LIMITS)
    assert caught is not None
    [task] = caught.human_tasks
    done = run_change(package, KEY, caught.stored, CompleteTask(task.id, {"certificate": "file-1"}), LIMITS)
    assert done is not None and done.status == "completed" and done.data["certificate"] == "file-1"
    stopped = run_change(package, KEY, caught.stored, Terminate(), LIMITS)
    assert stopped is not None and stopped.status == "terminated" and stopped.human_tasks == ()


def _in_a_worker(source: str, stored: StoredState, change: ServiceResult) -> Snapshot | None:
    """What a worker process does: compile the model it was given, run the change."""
    return run_change(_compiled(source), KEY, stored, change, LIMITS)


def test_the_change_runs_the_same_in_another_process() -> None:
    source = (MODELS / "registry_fallback.bpmn").read_text(encoding="utf-8")
    package = _compiled(source)
    started = _started(package)
    [call] = started.service_calls
    change = ServiceResult(call.task_id, {"name": "Sara"})
    here = run_change(package, KEY, started.stored, change, LIMITS)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        there = pool.submit(_in_a_worker, source, started.stored, change).result(timeout=120)
    assert here is not None and there is not None
    assert (there.status, there.data, there.steps) == (here.status, here.data, here.steps)
