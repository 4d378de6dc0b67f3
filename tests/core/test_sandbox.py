"""The script sandbox: hostile code is refused, ordinary analyst code works."""

from __future__ import annotations

import copy
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.core.sandbox import (
    SandboxedEnvironment,
    SandboxLimits,
    SandboxTimeout,
    SandboxViolation,
    check_source,
)
from engine.core.sandbox_guards import _internal_import
from tests.core.sandbox_escapes import ESCAPES

FAST = SandboxLimits(cpu_seconds=0.3)


def run(env: SandboxedEnvironment, kind: str, code: str, context: dict[str, Any]) -> Any:
    if kind == "eval":
        return env.evaluate(code, context)
    return env.execute(code, context)


# --- hostile code ---------------------------------------------------------------------


def test_escape_list_is_broad_and_unique() -> None:
    ids = [escape_id for escape_id, _, _ in ESCAPES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 20
    assert {kind for _, kind, _ in ESCAPES} == {"eval", "exec"}


@pytest.mark.parametrize(("kind", "code"), [(k, c) for _, k, c in ESCAPES], ids=[i for i, _, _ in ESCAPES])
def test_escape_is_refused(kind: str, code: str, tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    context = {"SENTINEL": str(sentinel)}
    with pytest.raises(SandboxViolation) as caught:
        run(SandboxedEnvironment(FAST), kind, code, context)
    assert str(caught.value).strip()
    assert not sentinel.exists()
    assert context == {"SENTINEL": str(sentinel)}


CONTROL = """
import copy, sys
from RestrictedPython.Guards import safe_globals
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment
kind, code, sentinel = sys.argv[1:]
if kind == "exec":  # SpiffArena's "restricted" setup
    TaskDataEnvironment(copy.deepcopy(dict(safe_globals))).execute(code, {"SENTINEL": sentinel})
else:  # SpiffWorkflow's default
    TaskDataEnvironment().evaluate(code, {"SENTINEL": sentinel})
"""


@pytest.mark.parametrize("escape_id", ["s09_wrap_close_popen", "s04_open_file"])
def test_escape_payloads_work_without_the_sandbox(escape_id: str, tmp_path: Path) -> None:
    """Control: the sentinel would appear if an escape got through (run in a child process,
    so the payload's open pipes and files cannot leak into other tests)."""
    kind, code = next((k, c) for i, k, c in ESCAPES if i == escape_id)
    sentinel = tmp_path / "pwned"
    subprocess.run([sys.executable, "-c", CONTROL, kind, code, str(sentinel)], check=True, timeout=60)
    assert sentinel.exists()


def test_static_refusals_name_the_problem() -> None:
    with pytest.raises(SandboxViolation, match=r"names starting with an underscore are not allowed: '__class__'"):
        check_source("x = ().__class__", "exec")
    with pytest.raises(SandboxViolation, match=r"import is not allowed \(line 2\)"):
        check_source("x = 1\nimport os", "exec")
    with pytest.raises(SyntaxError):
        check_source("x = ", "exec")
    check_source("age >= 65 and permit_type == 'building'", "eval")


@pytest.mark.parametrize("script", [
    "try:\n    getattr(1, 'x')\nexcept Exception:\n    mark()\nmark()",
    "try:\n    x = [0] * 10**9\nexcept (ValueError, Exception) as error:\n    mark()",
    "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        mark()",
    "def f():\n    return f()\ntry:\n    f()\nexcept Exception:\n    mark()",
])
def test_a_caught_violation_does_not_let_the_script_go_on(script: str) -> None:
    marks: list[int] = []
    env = SandboxedEnvironment(FAST, helpers={"mark": lambda: marks.append(1)})
    with pytest.raises(SandboxViolation):
        env.execute(script, {})
    assert marks == []


def test_timeout_stops_an_endless_loop() -> None:
    with pytest.raises(SandboxTimeout, match=r"CPU time limit of 0\.3 s"):
        SandboxedEnvironment(FAST).execute("while True:\n    pass", {})


def test_guard_names_in_task_data_do_not_replace_the_guards(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"

    def fake_guard(*args: Any) -> Any:
        sentinel.touch()
        return getattr(*args)

    context = {name: fake_guard for name in ("__sbx_getattr", "__sbx_mul", "__builtins__")}
    assert SandboxedEnvironment().evaluate("'ab'.upper() * 2", dict(context)) == "ABAB"
    assert not sentinel.exists()


def test_expressions_cannot_change_task_data() -> None:
    context = {"items": [1, 2]}
    with pytest.raises(SandboxViolation, match="'append' changes data"):
        SandboxedEnvironment().evaluate("items.append(3)", context)
    assert context == {"items": [1, 2]}


# --- ordinary code --------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "expected"), [
    ("1 + 2 * x - 7 / 2", 3.5),
    ("x ** 2 % 5", 4),
    ("[i * i for i in range(x)]", [0, 1, 4]),
    ("{k: len(v) for k, v in names.items()}", {"a": 3, "b": 0}),
    ("sorted(set(tags) | {'z'}, reverse=True)", ["z", "y", "x"]),
    ("'  Ada Lovelace '.strip().upper().split()", ["ADA", "LOVELACE"]),
    ("', '.join(sorted(names)) + '!'", "a, b!"),
    ("'{} owes {:>6.2f}'.format('Ada', 3.14159)", "Ada owes   3.14"),
    ("f'{x:03d}-{names[\"a\"]!r}'", "003-'Ada'"),
    ("'%s is %05.1f' % ('pi', 3.14159)", "pi is 003.1"),
    ("max(tags, key=len) if any(t == 'x' for t in tags) else None", "x"),
    ("str(round(2.675, 2)) + str(abs(-3)) + str(int('42'))", "2.67342"),
    ("'x'.zfill(3) + 'ab'.center(4, '*') + 'a-b'.replace('-', '+')", "00x*ab*a+b"),
    ("(date(2024, 2, 28) + timedelta(days=1)).isoformat()", "2024-02-29"),
    ("(datetime(2024, 3, 1, 12) - datetime(2024, 2, 28)).days", 2),
    ("datetime.fromisoformat('2024-05-01T10:00').weekday()", 2),
    ("json_loads(json_dumps({'b': [1, 2], 'a': None}, sort_keys=True))", {"a": None, "b": [1, 2]}),
    ("json_dumps({'b': 1, 'a': 2}, sort_keys=True)", '{"a": 2, "b": 1}'),
    ("sum(v for v in [1.5, 2.5]) + floor(2.7) + ceil(0.2) + sqrt(16)", 11.0),
    ("type == 'building'", True),
    ("isinstance(x, int) and not isinstance(x, str)", True),
])
def test_expressions(expression: str, expected: Any) -> None:
    context = {"x": 3, "names": {"a": "Ada", "b": ""}, "tags": ["x", "y"], "type": "building"}
    assert SandboxedEnvironment().evaluate(expression, context) == expected


def test_todays_date_and_parsed_dates_work_in_scripts_and_nothing_else_is_imported() -> None:
    """`date.today()` and `strptime` import `time` and `_strptime` from C through the frame's
    builtins; those two are answered, every other import is refused (scripts cannot ask themselves)."""
    env = SandboxedEnvironment(FAST)
    context: dict[str, Any] = {}
    env.execute("today = date.today()\nnow = datetime.today()\n"
                "parsed = datetime.strptime('1405/09/16', '%Y/%m/%d')", context)
    assert context["today"] in {datetime.now().date(), (datetime.now() - timedelta(minutes=1)).date()}
    assert isinstance(context["now"], datetime) and context["parsed"] == datetime(1405, 9, 16)
    with pytest.raises(ImportError):
        _internal_import("os")
    with pytest.raises(ImportError):
        _internal_import("time", level=1)


def test_script_updates_task_data_like_spiffworkflow() -> None:
    context: dict[str, Any] = {"amount": 120, "items": ["a"], "old": 1}
    script = (
        "def fee(value, rate=0.1):\n"
        "    return round(value * rate, 2)\n"
        "total = fee(amount)\n"
        "items.append('b')\n"
        "items += ['c']\n"
        "counts = {}\n"
        "for item in items:\n"
        "    counts[item] = counts.get(item, 0) + 1\n"
        "    counts[item] *= 2\n"
        "due = (date(2024, 1, 31) + timedelta(days=30)).isoformat()\n"
        "try:\n"
        "    ratio = 1 / 0\n"
        "except ZeroDivisionError as error:\n"
        "    ratio = str(error)\n"
        "if amount > 100:\n"
        "    level = 'high'\n"
        "helper = len\n"
        "del old\n"
    )
    assert SandboxedEnvironment().execute(script, context, {"dmninputexpr": 5}) is True
    assert context == {
        "amount": 120, "items": ["a", "b", "c"], "total": 12.0, "counts": {"a": 2, "b": 2, "c": 2},
        "due": "2024-03-01", "ratio": "division by zero", "level": "high", "item": "c",
    }


def test_vars_locals_and_globals_give_the_variables_only(caplog: pytest.LogCaptureFixture) -> None:
    environment = SandboxedEnvironment()
    assert environment.evaluate("'a' in vars() and 'b' not in globals()", {"a": 1}) is True
    assert environment.evaluate("sorted(locals())", {"a": 1, "b": [2]}) == ["a", "b"], "no guards, no builtins"
    context: dict[str, Any] = {"hey": 1}
    caplog.set_level("INFO", logger="panjereh.scripts")
    environment.execute("if 'hey' in locals():\n    x = 2\nprint('x is', x)\nnames = sorted(vars())", context)
    assert context == {"hey": 1, "x": 2, "names": ["hey", "x"]}
    assert [r.getMessage() for r in caplog.records] == ["script printed: x is 2"]
    environment.execute('print("done\\nCRITICAL forged", "x" * 5000)', {})
    assert caplog.records[-1].getMessage() == "script printed: done\\nCRITICAL forged " + "x" * 1979, \
        "one record, line breaks escaped, 2,000 characters at most"
    with pytest.raises(SandboxViolation, match="'print' is not available"):
        environment.evaluate("print(1)", {})
    with pytest.raises(SandboxViolation, match="take no argument"):
        environment.evaluate("vars(a)", {"a": SimpleNamespace(secret=1)})
    assert environment.evaluate("vars", {"vars": 3}) == 3, "task data of the same name wins"
    with pytest.raises(KeyError):
        environment.evaluate("globals()['__builtins__']", {})
    defined: dict[str, Any] = {"a": 1}
    environment.execute("def f():\n    return 1\nnames = sorted(vars())", defined)
    assert defined == {"a": 1, "names": ["a"]}, "functions, modules and guards are not variables"


def test_a_cron_cycle_starts_at_its_next_firing_when_evaluated() -> None:
    cycle = SandboxedEnvironment().evaluate("cron_cycle('0 0/15 * * * ?')", {})
    start = datetime.fromisoformat(cycle.split("/")[1])
    now = datetime.now(UTC)
    assert cycle.endswith("/PT15M") and now < start <= now + timedelta(minutes=15) and start.minute % 15 == 0
    with pytest.raises(SandboxViolation, match="does not fire at a fixed period"):
        SandboxedEnvironment().evaluate("cron_cycle('0 0/7 * * * ?')", {})


def test_scripts_can_raise_their_own_errors() -> None:
    with pytest.raises(ValueError, match="missing national id"):
        SandboxedEnvironment().execute("raise ValueError('missing national id')", {})


def test_dmn_style_expressions_through_spiffworkflow() -> None:
    engine = PythonScriptEngine(environment=SandboxedEnvironment())
    task = SimpleNamespace(data={"age": 70, "permit_type": "building", "code": 71},
                           workflow=SimpleNamespace(script_engine=engine), task_spec=None)
    assert engine.evaluate(task, "age>= 65") is True
    assert engine.evaluate(task, '(permit_type) == ("building")') is True
    assert engine.evaluate(task, "64 < dmninputexpr < 200", external_context={"dmninputexpr": 70}) is True
    dmn = DMNEngine(decision_table=None)
    assert dmn.evaluate("age", ">= 65", task) is True
    assert dmn.evaluate("permit_type", '"building"', task) is True
    assert dmn.evaluate("age", "64 < ? < 200", task) is True
    assert dmn.evaluate("code", "? in (70, 71)", task) is True
    assert dmn.evaluate("age", "? in (70, 71) and 'what?' != permit_type", task) is True
    assert dmn.evaluate("age", "< 18", task) is False


# --- limits, threads, integration -----------------------------------------------------


def test_oversized_data_leaves_context_unchanged() -> None:
    env = SandboxedEnvironment(SandboxLimits(max_data_bytes=1_000))
    context: dict[str, Any] = {"items": ["a"], "keep": {"nested": [1]}}
    before = copy.deepcopy(context)
    script = "items.append('x' * 5000)\nkeep['nested'].append(2)\nnew = 1"
    with pytest.raises(SandboxViolation, match=r"task data would be 5,\d+ bytes, over the 1,000 bytes limit"):
        env.execute(script, context)
    assert context == before
    env.execute("items.append('x' * 500)", context)
    assert context["items"] == ["a", "x" * 500]


@pytest.mark.parametrize(("script", "message"), [
    ("tags = {'a', 'b'}", "cannot hold set values"),
    ("try:\n    1 / 0\nexcept Exception as error:\n    problem = error", "cannot hold ZeroDivisionError values"),
    ("table = {(1, 2): 'x'}", "keys must be strings or numbers"),
    ("deep = []\nfor i in range(100):\n    deep = [deep]", "nested more than 32 levels"),
])
def test_values_the_state_cannot_store_are_refused(script: str, message: str) -> None:
    context = {"kept": 1}
    with pytest.raises(SandboxViolation, match=message):
        SandboxedEnvironment().execute(script, context)
    assert context == {"kept": 1}


def test_failed_script_leaves_context_unchanged() -> None:
    context: dict[str, Any] = {"items": [1], "n": 1}
    with pytest.raises(ZeroDivisionError):
        SandboxedEnvironment().execute("items.append(2)\nn = 2\nboom = 1 / 0", context)
    assert context == {"items": [1], "n": 1}


def test_two_threads_run_scripts_at_once() -> None:
    env = SandboxedEnvironment(SandboxLimits(cpu_seconds=10))
    script = "total = 0\nfor i in range(count):\n    total += i * 2\n"
    results: dict[str, Any] = {}

    def work(name: str, count: int) -> None:
        context: dict[str, Any] = {"count": count}
        try:
            env.execute(script, context)
            results[name] = context["total"]
        except Exception as error:  # reported through `results`, asserted below
            results[name] = error

    threads = [threading.Thread(target=work, args=(f"t{n}", 20_000 + n)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {f"t{n}": (20_000 + n) * (20_000 + n - 1) for n in range(2)}


def test_a_timeout_in_one_thread_does_not_touch_another() -> None:
    looping = SandboxedEnvironment(FAST)
    working = SandboxedEnvironment(SandboxLimits(cpu_seconds=10))
    results: dict[str, Any] = {}

    def attempt(name: str, env: SandboxedEnvironment, script: str) -> None:
        context: dict[str, Any] = {}
        try:
            env.execute(script, context)
            results[name] = context
        except Exception as error:  # reported through `results`, asserted below
            results[name] = error

    threads = [
        threading.Thread(target=attempt, args=("loop", looping, "while True:\n    pass")),
        threading.Thread(target=attempt, args=("work", working, "n = sum(i for i in range(300000))")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert isinstance(results["loop"], SandboxTimeout)
    assert results["work"] == {"n": 44_999_850_000}


def test_nested_runs_restore_the_outer_tracer() -> None:
    inner_env = SandboxedEnvironment(FAST)

    def inner(text: str) -> Any:
        return inner_env.evaluate(text, {"v": 2})

    env = SandboxedEnvironment(FAST, helpers={"inner": inner})
    assert env.evaluate("inner('v * 21')", {}) == 42
    with pytest.raises(SandboxTimeout):
        env.execute("x = inner('v + 1')\nwhile True:\n    x += 1", {})


def test_host_tracer_is_restored() -> None:
    def host_tracer(frame: FrameType, event: str, arg: Any) -> None:
        return None

    sys.settrace(host_tracer)
    try:
        SandboxedEnvironment().evaluate("1 + 1", {})
        with pytest.raises(SandboxViolation):
            SandboxedEnvironment().evaluate("open('x')", {})
        assert sys.gettrace() is host_tracer
    finally:
        sys.settrace(None)


def test_call_service_is_refused() -> None:
    with pytest.raises(SandboxViolation, match="service"):
        SandboxedEnvironment().call_service({}, operation_name="x", operation_params={})


def test_helpers_must_be_reachable_names() -> None:
    with pytest.raises(ValueError, match="_secret"):
        SandboxedEnvironment(helpers={"_secret": len})


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
                  targetNamespace="http://panjereh.test/sandbox">
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />
    <bpmn:scriptTask id="prepare" name="Prepare">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>ready = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="escape" />
    <bpmn:scriptTask id="escape" name="Escape">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="escape" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_bpmn_script_task_escape_fails_the_task(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    payload = next(code for escape_id, _, code in ESCAPES if escape_id == "s09_wrap_close_popen")
    payload = payload.replace("SENTINEL", repr(str(sentinel)))
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.format(script=payload.replace("&", "&amp;").replace("<", "&lt;")).encode())
    engine = PythonScriptEngine(environment=SandboxedEnvironment())
    workflow = BpmnWorkflow(parser.get_spec("hostile"), script_engine=engine)
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert caught.value.task_spec.bpmn_id == "escape"
    assert caught.value.error_type == "SandboxViolation"
    assert isinstance(caught.value.__context__, SandboxViolation)
    assert "underscore" in str(caught.value)
    assert not sentinel.exists()
