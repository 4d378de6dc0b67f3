"""The state index is checked against SpiffWorkflow's tree walk, and a disagreement fails the
test that caused it (`--cross-check-index`, tests/index_check.py), even when the engine
turned the error into a failed instance."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.safe_xml import load_xml
from engine.core.execution import Execution, make_script_engine
from engine.core.package import CompiledPackage, Document, compile_package
from engine.core.workflow import EngineWorkflow, IndexMismatchError

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "models" / "loops" / "gateway_loop.bpmn"
KEY = "gateway_loop"


@pytest.fixture(scope="module")
def package() -> CompiledPackage:
    root = load_xml(MODEL.read_bytes(), name=MODEL.name, max_bytes=1_000_000, max_depth=64)
    compiled = compile_package([Document(MODEL.name, "bpmn", root)])
    assert compiled.report.deployable, compiled.report
    return compiled


def _paused(package: CompiledPackage) -> Execution:
    execution = Execution.start(package, KEY, {"rounds": 30, "pause_at": 10}, make_script_engine())
    execution.advance()
    assert execution.status == "waiting"
    return execution


def test_an_intact_index_agrees_with_the_walk_before_and_after_a_restore(package: CompiledPackage) -> None:
    execution = _paused(package)
    assert isinstance(execution.workflow, EngineWorkflow)
    execution.workflow.check_index()
    state, version = execution.dump()
    restored = Execution.restore(package, KEY, state, version, make_script_engine())
    restored.workflow.check_index()
    restored.complete_human_task(restored.human_tasks()[0].id, {})
    restored.workflow.check_index()
    assert restored.status == "completed"


def test_a_task_missing_from_the_index_is_found(package: CompiledPackage) -> None:
    execution = _paused(package)
    execution.workflow._index.buckets[TaskState.READY].clear()
    with pytest.raises(IndexMismatchError, match="READY"):
        execution.workflow.check_index()


def test_a_stale_state_in_the_index_is_found(package: CompiledPackage) -> None:
    execution = _paused(package)
    [ready] = execution.workflow.get_tasks(state=TaskState.READY, manual=True)
    execution.workflow._index.moved(ready, TaskState.READY, TaskState.WAITING)
    with pytest.raises(IndexMismatchError):
        execution.workflow.check_index()


CORRUPTING_TEST = """
from pathlib import Path

from SpiffWorkflow.util.task import TaskState

from engine.bpmn.safe_xml import load_xml
from engine.core.package import Document, compile_package
from engine.core.execution import Execution, make_script_engine

MODEL = Path({model!r})


def test_a_change_over_a_corrupted_index() -> None:
    root = load_xml(MODEL.read_bytes(), name=MODEL.name, max_bytes=1_000_000, max_depth=64)
    package = compile_package([Document(MODEL.name, "bpmn", root)])
    execution = Execution.start(package, "gateway_loop", {{"rounds": 30, "pause_at": 10}}, make_script_engine())
    execution.advance()
    [task] = execution.human_tasks()
    root = execution.workflow.task_tree  # completed long ago: the index now says it is ready
    execution.workflow._index.moved(root, None, TaskState.READY)
    try:
        execution.complete_human_task(task.id, {{}})
    except Exception:
        pass  # as the service layer does: an error of a step becomes a failed instance
"""


def _run_pytest(tests: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={ROOT}",
         "-c", str(ROOT / "pyproject.toml"), *options, str(tests)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_the_option_fails_a_test_whose_change_leaves_the_index_wrong(tmp_path: Path) -> None:
    # The same test twice, in a folder the option names and in one it does not: one pytest
    # run (each run starts an interpreter and imports the engine) shows both sides.
    checked, unchecked = tmp_path / "checked", tmp_path / "unchecked"
    for folder in (checked, unchecked):
        folder.mkdir()
        (folder / f"test_corrupt_{folder.name}.py").write_text(
            textwrap.dedent(CORRUPTING_TEST.format(model=str(MODEL))), encoding="utf-8")

    done = _run_pytest(tmp_path, "--cross-check-index", str(checked), "-rfE")
    report = done.stdout + done.stderr
    assert done.returncode == 1, report
    assert "1 failed, 1 passed" in done.stdout, report
    assert "FAILED checked/test_corrupt_checked.py::test_a_change_over_a_corrupted_index" in done.stdout, report
    assert "the state index disagreed with SpiffWorkflow's tree walk" in done.stdout, report
    # Unchecked (the option names another folder), the same test passes: the failure is the check's.
    assert "test_corrupt_unchecked.py" not in done.stdout.split("short test summary info")[-1], report
