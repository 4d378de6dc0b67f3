"""Moving an instance to another version of its process, as a pure change: what moves, what
is refused and why, and that waits keep their due times.

The models are three versions of one permit (tests/models/migration): version 2 adds a
step after the review, version 3 replaces the review with an automatic check.
"""

from __future__ import annotations

from datetime import timedelta

from engine.core.changes import ChangeLimits, CompleteTask, Migrate, Start
from engine.core.isolated_changes import IsolatedChanges
from engine.core.package import CompiledPackage
from engine.core.package_source import package_source
from engine.core.snapshot import Snapshot, run_change
from engine.core.worker_pool import PoolLimits, WorkerPool
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.fixtures import MODELS

LIMITS = ChangeLimits(max_steps=1000, max_seconds=30.0)
KEY = "permit"
FOLDER = MODELS / "migration"


def _compiled(version: int, edit: tuple[str, str] | None = None) -> CompiledPackage:
    text = (FOLDER / f"permit_v{version}.bpmn").read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    loaded, report = check([UploadedFile(f"permit_v{version}.bpmn", text.encode())], Settings())
    assert loaded is not None, report.problems
    return loaded.compiled


def _started(package: CompiledPackage) -> Snapshot:
    snapshot = run_change(package, KEY, None, Start({"applicant": "0013542419"}), LIMITS)
    assert snapshot is not None and [task.spec_id for task in snapshot.human_tasks] == ["review"]
    return snapshot


def _moved(package: CompiledPackage, snapshot: Snapshot, target: CompiledPackage) -> Snapshot:
    moved = run_change(package, KEY, snapshot.stored, Migrate(2, package_source(target)), LIMITS)
    assert moved is not None and moved.migration is not None
    return moved


def test_an_instance_at_a_user_task_moves_to_a_version_with_a_later_step_and_runs_it() -> None:
    v1, v2 = _compiled(1), _compiled(2)
    started = _started(v1)
    moved = _moved(v1, started, v2)
    plan = moved.migration
    assert plan is not None and plan.safe, plan
    assert plan.added == ("archive", "stamp") and plan.removed == ()
    assert {(t.element_id, t.state, t.outcome) for t in plan.tasks} == {("review", "ready", "kept"),
                                                                         ("deadline", "waiting", "kept")}
    # The same task waits for the same person, with the data it had; the deadline is the one
    # counted from when the review began, not from the migration.
    assert moved.human_tasks == started.human_tasks
    assert moved.timer_waits == started.timer_waits
    assert moved.data == started.data == {"applicant": "0013542419", "fee": 100}
    [review] = moved.human_tasks
    reviewed = run_change(v2, KEY, moved.stored, CompleteTask(review.id, {"approved": True}), LIMITS)
    assert reviewed is not None and [t.spec_id for t in reviewed.human_tasks] == ["archive"]
    assert reviewed.timer_waits == ()  # the review is done, so is its deadline
    [archive] = reviewed.human_tasks
    done = run_change(v2, KEY, reviewed.stored, CompleteTask(archive.id, {}), LIMITS)
    assert done is not None and done.status == "completed"
    assert done.data["stamped"] == 200 and done.data["approved"] is True


def test_a_version_without_the_task_the_instance_is_at_is_refused_with_its_reasons() -> None:
    v1, v3 = _compiled(1), _compiled(3)
    started = _started(v1)
    refused = _moved(v1, started, v3)
    plan = refused.migration
    assert plan is not None and not plan.safe
    assert plan.removed == ("deadline", "remind", "reminded_end", "review") and plan.added == ("auto_check",)
    assert any("'Review the application' (review) (ready)" in reason and "does not have" in reason
               for reason in plan.refusals), plan.refusals
    assert any("'deadline' (waiting)" in reason for reason in plan.refusals), plan.refusals
    # Handed back as it was: the same task, the same wait, nothing run of the new version.
    assert (refused.human_tasks, refused.timer_waits, refused.data) == (started.human_tasks, started.timer_waits,
                                                                        started.data)
    assert refused.steps == ()


def test_an_element_the_instance_already_passed_must_stay() -> None:
    v2 = _compiled(2)
    started = _started(v2)
    [review] = started.human_tasks
    at_archive = run_change(v2, KEY, started.stored, CompleteTask(review.id, {}), LIMITS)
    assert at_archive is not None and [t.spec_id for t in at_archive.human_tasks] == ["archive"]
    without_stamp = _compiled(2, ('<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="stamp" />\n'
                                  '    <bpmn:sequenceFlow id="f6" sourceRef="stamp" targetRef="archive" />',
                                  '<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="archive" />'))
    renamed = _moved(v2, at_archive, _compiled(2, ('"stamp"', '"stamp_fee"')))
    assert renamed.migration is not None and renamed.migration.safe, "a renamed element is aligned by its place"
    assert renamed.migration.added == () and renamed.migration.removed == ()
    [stamp] = renamed.migration.changed
    assert (stamp.element_id, stamp.renamed_to, stamp.attributes) == ("stamp", "stamp_fee", ("name", "bpmn_id"))
    refused = _moved(v2, at_archive, without_stamp)
    assert refused.migration is not None and refused.migration.refusals == (
        "the instance already passed 'stamp', which the new version does not have (its history would name an "
        "element that no longer exists)",)


def test_a_changed_timer_restarts_and_the_plan_says_so() -> None:
    v1 = _compiled(1)
    started = _started(v1)
    shorter = _compiled(1, ('"P10D"', '"P5D"'))
    moved = _moved(v1, started, shorter)
    plan = moved.migration
    assert plan is not None and plan.safe
    [deadline] = [t for t in plan.tasks if t.element_id == "deadline"]
    assert deadline.outcome == "restarted" and "counts again" in deadline.reason
    assert [c.element_id for c in plan.changed] == ["deadline"]
    [before], [after] = started.timer_waits, moved.timer_waits
    assert after.task_id == before.task_id
    assert timedelta(days=4) < before.due_at - after.due_at < timedelta(days=5, hours=1)


def test_another_kind_of_element_under_the_same_id_is_refused() -> None:
    v1 = _compiled(1)
    started = _started(v1)
    manual = _compiled(1, ('<bpmn:userTask id="review" name="Review the application" />',
                           '<bpmn:scriptTask id="review" name="Review the application" scriptFormat="python">'
                           '<bpmn:script>approved = True</bpmn:script></bpmn:scriptTask>'))
    refused = _moved(v1, started, manual)
    assert refused.migration is not None
    assert [reason for reason in refused.migration.refusals if "UserTask here and a ScriptTask" in reason]


def test_a_process_the_version_does_not_have_is_refused() -> None:
    v1 = _compiled(1)
    other = _compiled(1, ('<bpmn:process id="permit"', '<bpmn:process id="licence"'))
    refused = _moved(v1, _started(v1), other)
    assert refused.migration is not None
    assert refused.migration.refusals == ("the version to move to has no executable process 'permit'",)


def test_a_move_in_a_model_worker_answers_the_same_plan() -> None:
    v1, v2 = _compiled(1), _compiled(2)
    started = _started(v1)
    here = _moved(v1, started, v2)
    pool: WorkerPool[object] = WorkerPool(PoolLimits(workers=1))
    try:
        there = IsolatedChanges(pool).run(v1, KEY, started.stored, Migrate(2, package_source(v2)), LIMITS)
    finally:
        pool.close()
    assert there is not None and there.migration == here.migration
    assert there.human_tasks == here.human_tasks and there.timer_waits == here.timer_waits
