"""`panjereh validate --summary DIR [--run]`: how much of a folder of real exports imports and runs.

Each BPMN file is imported as an analyst would deploy it: alone, with the DMN tables,
forms and called processes that sit in the same folder. With `run`, every deployable
model is started and driven headless the way the baseline in the corpus README was
measured: user tasks answered with empty data (submitted through the task's form, so a
Camunda form stores its defaults and nulls as Camunda does), service tasks given an empty result,
timers fired as soon as they are waited on (a dry run has no clock to wait for),
2,000 engine steps and 10 seconds at most. A run that waits for a message or signal
nobody sends, or fails, did not reach an end; its reason says where and why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.bpmn.safe_xml import UnsafeXmlError, load_xml
from engine.core import events
from engine.core.errors import EngineError, ScriptError, StepLimitExceeded
from engine.core.runtime import Execution, make_script_engine
from engine.services.deployments import LoadedPackage, UploadedFile, check
from engine.settings import Settings
from forms.validate import validate_submission

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
MAX_STEPS = 2000
MAX_SECONDS = 10.0
MAX_ROUNDS = 2000
_SIBLING_SUFFIXES = {".dmn", ".form", ".json"}


@dataclass
class FileResult:
    """One line of `--json` output."""

    file: str
    dialect: str
    exporter: str
    imported: bool
    deployable: bool
    ran_to_end: bool | None
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def _is_bpmn(path: Path) -> bool:
    if path.suffix.lower() not in {".bpmn", ".xml"} or not path.is_file():
        return False
    with path.open("rb") as handle:
        return BPMN_NS.encode() in handle.read(8192)


def bpmn_files(root: Path) -> Iterator[Path]:
    """Every BPMN document under `root`, in a stable order."""
    for path in sorted(root.rglob("*")):
        if _is_bpmn(path):
            yield path


def _called_keys(content: bytes) -> set[str]:
    try:
        root = load_xml(content, name="", max_bytes=50 * 2**20, max_depth=512)
    except UnsafeXmlError:
        return set()
    keys = {c.get("calledElement", "") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
    keys |= {c.get("processId", "").lstrip("=").strip().strip('"') for c in root.iter(f"{{{ZEEBE_NS}}}calledElement")}
    return keys - {""}


def _process_keys(path: Path) -> set[str]:
    try:
        root = load_xml(path.read_bytes(), name="", max_bytes=50 * 2**20, max_depth=512)
    except (UnsafeXmlError, OSError):
        return set()
    return {p.get("id", "") for p in root.iterfind(f"{{{BPMN_NS}}}process")}


def _with_siblings(path: Path, content: bytes) -> list[UploadedFile]:
    """The file and what it needs from its folder: decisions, forms and called processes."""
    files = [UploadedFile(path.name, content)]
    called = _called_keys(content)
    own = _process_keys(path)
    for sibling in sorted(path.parent.iterdir()):
        if sibling == path or not sibling.is_file():
            continue
        wanted = sibling.suffix.lower() in _SIBLING_SUFFIXES and sibling.stat().st_size < 2**20
        # A sibling that defines this file's own processes is another version of it, not a callee.
        if wanted or (called and _is_bpmn(sibling) and called & _process_keys(sibling)
                      and not own & _process_keys(sibling)):
            files.append(UploadedFile(sibling.name, sibling.read_bytes()))
    return files


def _reasons(report: Any) -> list[str]:
    errors = [p for p in report.problems if p.severity == "error"]
    return [str(p) for p in errors[:10]]


def _waiting_reason(execution: Execution) -> str:
    events = execution.workflow.waiting_events()
    if events:
        described = ", ".join(f"{e.event_type} '{e.name}'" for e in events[:3])
        return f"waits for {described}, which a dry run does not send"
    stuck = ", ".join(f"'{name}'" for name in execution.waiting_elements()[:3])
    return f"waits at {stuck or 'nothing'} with nothing left that could move it on (a deadlock in the model)"


def _fire_timers(execution: Execution) -> bool:
    """Fire the earliest timer the instance waits on; whether there was one."""
    waits = sorted(events.timer_waits(execution), key=lambda wait: wait.due_at)
    if not waits:
        return False
    events.fire_timer(execution, waits[0].task_id)
    return True


def _empty_answer(package: LoadedPackage, task: str) -> dict[str, Any]:
    """What submitting the task's form with nothing filled in stores (nothing, for most forms)."""
    kept, errors = validate_submission(package.forms.get(task), {})
    return {} if errors else kept


def _trigger_start(execution: Execution, package: LoadedPackage, key: str) -> None:
    """Start the instance the way its process is started: a process whose start events all
    wait for a message or a signal gets the first one's trigger, as `POST /messages` would."""
    triggers = events.start_triggers(package.compiled, key)
    if not triggers or len(triggers) < len(package.compiled.start_events(key)):
        return
    first = next((t for t in triggers if t.kind in ("message", "signal") and t.name), None)
    if first is not None and first.kind in ("message", "signal"):
        events.catch_start_event(execution, first.kind, first.name or "", {})
        execution.advance()


def drive(package: LoadedPackage, key: str) -> tuple[bool, str | None]:
    """Run process `key` headless to its end: whether it got there, and why not."""
    start_data: dict[str, Any] = {}
    for event in package.compiled.start_events(key):
        start_data.update(_empty_answer(package, event))
    execution = Execution.start(package.compiled, key, start_data, make_script_engine())
    execution.limit_steps(MAX_STEPS, MAX_SECONDS)
    try:
        execution.advance()
        _trigger_start(execution, package, key)
        for _ in range(MAX_ROUNDS):
            if execution.workflow.is_completed():
                break
            # One at a time: finishing a task can cancel others (an event gateway, a boundary event).
            human = execution.human_tasks()
            calls = execution.service_calls()
            if human:
                execution.complete_human_task(human[0].id, _empty_answer(package, human[0].spec_id))
            elif calls:
                execution.complete_service_task(calls[0].task_id, {})
            elif not _fire_timers(execution):
                return False, _waiting_reason(execution)
        else:
            return False, f"still running after {MAX_ROUNDS} rounds of answers"
    except StepLimitExceeded as err:
        return False, str(err)
    except ScriptError as err:
        return False, str(err)
    except EngineError as err:
        return False, f"{type(err).__name__}: {err}"
    if execution.status != "completed":
        return False, f"ended as {execution.status}"
    return True, None


def summarise(path: Path, settings: Settings, run: bool) -> FileResult:
    """Import (and with `run`, drive) one file. Never raises on a bad model."""
    content = path.read_bytes()
    try:
        loaded, report = check(_with_siblings(path, content), settings)
    except Exception as err:
        return FileResult(str(path), "?", "", False, False, None, [f"crash: {type(err).__name__}: {err}"])
    info = next((f for f in report.files if f.file == path.name), None)
    result = FileResult(str(path), info.dialect if info else "?", info.exporter if info else "",
                        info is not None, loaded is not None, None, _reasons(report))
    if loaded is None or not run:
        return result
    own = _process_keys(path)
    keys = [k for k, p in loaded.compiled.processes.items() if p.executable and k in own]
    result.ran_to_end = False
    for key in keys[:1]:
        try:
            ended, why = drive(loaded, key)
        except Exception as err:
            ended, why = False, f"crash while running: {type(err).__name__}: {err}"
        result.ran_to_end = ended
        if why:
            result.reasons.append(f"run of '{key}': {why}")
    return result


def print_table(results: list[FileResult], run: bool) -> None:
    """Counts by dialect and exporter, then the most common reasons."""
    def row(label: str, group: list[FileResult]) -> str:
        cells = [len(group), sum(r.imported for r in group), sum(r.deployable for r in group)]
        if run:
            cells.append(sum(bool(r.ran_to_end) for r in group))
        return f"{label[:44]:<44}" + "".join(f"{c:>11}" for c in cells)

    header = f"{'':<44}{'files':>11}{'imported':>11}{'deployable':>11}" + (f"{'ran to end':>11}" if run else "")
    for title, key in (("dialect", "dialect"), ("exporter", "exporter")):
        print(f"\nby {title}")
        print(header)
        groups: dict[str, list[FileResult]] = {}
        for result in results:
            groups.setdefault(getattr(result, key) or "(none)", []).append(result)
        for label, group in sorted(groups.items(), key=lambda item: -len(item[1])):
            print(row(label, group))
    print(row("all", results))
    reasons: Counter[str] = Counter()
    for result in results:
        for reason in {_shape(r) for r in result.reasons}:
            reasons[reason] += 1
    print("\ntop reasons (files)")
    for reason, count in reasons.most_common(15):
        print(f"{count:>5}  {reason}")


def _shape(reason: str) -> str:
    """A reason without its file, line, element and quoted names, so alike reasons count together."""
    text = re.sub(r"^(error|warning): \S*( \[[^\]]*\])?\s*", "", reason)
    text = re.sub(r"'[^']*'|`[^`]*`|\"[^\"]*\"", "…", text)
    text = re.sub(r"\(line \d+\)|line \d+|\d+", "#", text)
    return text[:120]
