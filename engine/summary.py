"""`panjereh validate --summary DIR [--run]`: how much of a folder of real exports imports and runs.

Each BPMN file is imported as an analyst would deploy it: alone, with the DMN tables,
forms and called processes that sit in the same folder. With `run`, every deployable
model is started and driven headless under the rules of the baseline in the corpus
README, which counts a file as run when one of its own processes reaches an end event:
user tasks answered with empty data (submitted through the task's form, so a Camunda
form stores its defaults and nulls as Camunda does), service tasks given an empty result,
timers fired as soon as they are waited on (a dry run has no clock to wait for),
2,000 engine steps and 10 seconds at most per process.

Each executable process of the file is started the way it starts, with the file's other
processes as its partners, as the pools of a collaboration: a message one throws reaches
another that waits for it, or starts the one whose start event takes it. When nothing is
left to answer and a process waits for a message or signal that none of the file's pools
sends, it comes from outside, empty, as a user's empty answer would. A run that is still
stuck, loops past the caps, or fails did not reach an end; its reason says where and why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.core import catch_events
from engine.core.errors import EngineError, ScriptError, StepLimitExceeded
from engine.core.execution import Execution, make_script_engine
from engine.core.statuses import InstanceStatus
from engine.services.deployments import LoadedPackage, check
from engine.settings import Settings
from engine.summary_files import process_keys, with_siblings
from forms.validate import validate_submission

MAX_STEPS = 2000
MAX_SECONDS = 10.0
MAX_ROUNDS = 2000


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
    # Whether the run that ended needed a message or signal from outside the file (not in --json).
    from_outside: bool = False

    def as_json(self) -> str:
        line = asdict(self)
        del line["from_outside"]
        return json.dumps(line, ensure_ascii=False)


def _reasons(report: Any) -> list[str]:
    errors = [p for p in report.problems if p.severity == "error"]
    return [str(p) for p in errors[:10]]


def _waiting_reason(execution: Execution) -> str:
    pending = execution.pending_events()
    if pending:
        described = ", ".join(f"{kind} '{name}'" for kind, name in pending[:3])
        return f"still waits for {described} after all the dry run could send it"
    stuck = ", ".join(f"'{name}'" for name in execution.waiting_elements()[:3])
    return f"waits at {stuck or 'nothing'} with nothing left that could move it on (a deadlock in the model)"


def _fire_timers(execution: Execution) -> bool:
    """Fire the earliest timer the instance waits on; whether there was one."""
    waits = sorted(catch_events.timer_waits(execution), key=lambda wait: wait.due_at)
    if not waits:
        return False
    catch_events.fire_timer(execution, waits[0].task_id)
    return True


def _empty_answer(package: LoadedPackage, task: str) -> dict[str, Any]:
    """What submitting the task's form with nothing filled in stores (nothing, for most forms)."""
    kept, errors = validate_submission(package.forms.get(task), {})
    return {} if errors else kept


class DryRun:
    """The processes of one file run together, as the pools of a collaboration do: a message
    or signal one of them throws reaches another that waits for it, or starts a process of
    the file whose start event takes it."""

    def __init__(self, package: LoadedPackage, keys: list[str]) -> None:
        self.package = package
        self.keys = keys
        self.running: list[Execution] = []
        self.from_outside = 0
        self._delivered: set[tuple[str, str, str | None]] = set()

    def start(self, key: str, trigger: tuple[str, str, Any] | None = None) -> Execution:
        data: dict[str, Any] = {}
        for event in self.package.compiled.start_events(key):
            data.update(_empty_answer(self.package, event))
        execution = Execution.start(self.package.compiled, key, data, make_script_engine())
        execution.limit_steps(MAX_STEPS, MAX_SECONDS)
        self.running.append(execution)
        execution.advance()
        if trigger is None:
            trigger = self._own_trigger(key)
        if trigger is not None:
            kind, name, payload = trigger
            catch_events.catch_start_event(execution, kind, name, payload)  # type: ignore[arg-type]
            execution.advance()
        self.route(execution)
        return execution

    def _own_trigger(self, key: str) -> tuple[str, str, Any] | None:
        """A process whose start events all wait for a message or signal is started by the first."""
        triggers = catch_events.start_triggers(self.package.compiled, key)
        if not triggers or len(triggers) < len(self.package.compiled.start_events(key)):
            return None
        first = next((t for t in triggers if t.kind in ("message", "signal") and t.name), None)
        return (first.kind, first.name or "", {}) if first is not None else None

    def _starts_on(self, kind: str, name: str) -> str | None:
        for key in self.keys:
            if any(t.kind == kind and t.name == name for t in catch_events.start_triggers(self.package.compiled, key)):
                return key
        return None

    def route(self, source: Execution) -> None:
        for thrown in catch_events.take_thrown(source):
            others = [e for e in self.running if e is not source and not e.finished]
            if thrown.kind == "message":
                if not any(catch_events.catch_message(e, thrown.name, thrown.payload, thrown.correlation)
                           for e in others):
                    key = self._starts_on("message", thrown.name)
                    if key is not None:
                        self.start(key, ("message", thrown.name, thrown.payload))
                        continue
                for target in others:
                    self.route(target)
            else:
                for target in others:
                    if catch_events.catch_signal(target, thrown.name, thrown.payload):
                        self.route(target)
                key = self._starts_on("signal", thrown.name)
                if key is not None:
                    self.start(key, ("signal", thrown.name, thrown.payload))

    def step(self) -> bool:
        """Give the first execution with something to do its next answer; whether any had one."""
        for execution in self.running:
            if execution.finished:
                continue
            human, calls = execution.human_tasks(), execution.service_calls()
            if human:
                execution.complete_human_task(human[0].id, _empty_answer(self.package, human[0].spec_id))
            elif calls:
                execution.complete_service_task(calls[0].task_id, {})
            elif not _fire_timers(execution):
                continue
            self.route(execution)
            return True
        return self._from_outside()

    def _from_outside(self) -> bool:
        """Deliver, empty, one message or signal a stuck process waits for; whether there was one.
        Each catch gets each message or signal once: a parallel multiple event waits for all."""
        for execution in self.running:
            if execution.finished:
                continue
            waits = [("message", w.task_id, w.name) for w in catch_events.message_waits(execution)]
            waits += [("signal", w.task_id, w.name) for w in catch_events.signal_waits(execution)]
            for kind, task_id, name in waits:
                if (kind, task_id, name) in self._delivered:
                    continue
                self._delivered.add((kind, task_id, name))
                caught = (catch_events.catch_message(execution, name, {}, None) if kind == "message"
                          else catch_events.catch_signal(execution, name, {}))
                if caught:
                    self.from_outside += 1
                    self.route(execution)
                    return True
        return False


def drive(package: LoadedPackage, keys: list[str], main: str) -> tuple[bool, str | None, DryRun]:
    """Run process `main` headless to its end, with the file's processes `keys` as its
    partners: whether it got there, why not, and the run itself."""
    run = DryRun(package, keys)
    try:
        execution = run.start(main)
        for _ in range(MAX_ROUNDS):
            if execution.finished:
                break
            # One answer at a time: finishing a task can cancel others (an event gateway, a boundary event).
            if not run.step():
                return False, _waiting_reason(execution), run
        else:
            return False, f"still running after {MAX_ROUNDS} rounds of answers", run
    except StepLimitExceeded as err:
        return False, str(err), run
    except ScriptError as err:
        return False, str(err), run
    except EngineError as err:
        return False, f"{type(err).__name__}: {err}", run
    if execution.status is not InstanceStatus.COMPLETED:
        return False, f"ended as {execution.status}", run
    return True, None, run


def summarise(path: Path, settings: Settings, run: bool) -> FileResult:
    """Import (and with `run`, drive) one file. Never raises on a bad model."""
    content = path.read_bytes()
    try:
        loaded, report = check(with_siblings(path, content), settings)
    except Exception as err:
        return FileResult(str(path), "?", "", False, False, None, [f"crash: {type(err).__name__}: {err}"])
    info = next((f for f in report.files if f.file == path.name), None)
    result = FileResult(str(path), info.dialect if info else "?", info.exporter if info else "",
                        info is not None, loaded is not None, None, _reasons(report))
    if loaded is None or not run:
        return result
    own, _ = process_keys(path)
    keys = [k for k, p in loaded.compiled.processes.items() if p.executable and k in own]
    if not keys:
        return result
    failures = []
    for key in keys:
        try:
            ended, why, dry = drive(loaded, keys, key)
        except Exception as err:  # a summary must finish; the crash is its finding
            ended, why, dry = False, f"crash while running: {type(err).__name__}: {err}", None
        if ended and dry is not None:
            result.ran_to_end, result.from_outside = True, dry.from_outside > 0
            return result
        failures.append(f"run of '{key}': {why}")
    result.ran_to_end = False
    result.reasons.extend(failures)
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
    if run:
        outside = sum(r.from_outside for r in results)
        print(f"\n{outside} of the runs that reached an end needed a message or signal from outside the file")
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
