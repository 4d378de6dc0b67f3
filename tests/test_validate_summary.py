"""`panjereh validate --summary DIR [--run] [--json]` over a folder of exports, and the readable report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.cli import main
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from engine.summary import drive
from tests.fixtures import ROOT
from tests.importer.bpmn_text import flow, model, script

EXPORTS = ROOT / "designer_exports"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A few real exports, a descriptive diagram, a file that is not XML and one in a subfolder."""
    for name in ("camunda7/juel_conditions.bpmn", "bpmnio/descriptive.bpmn", "bpmnio/python_conditions.bpmn",
                 "camunda8/message_start.bpmn"):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXPORTS / name, target)
    (tmp_path / "bpmnio" / "broken.bpmn").write_bytes(
        b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:')
    return tmp_path


def test_summary_json_has_one_line_per_file_and_explains_each_failure(folder: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--summary", str(folder), "--run", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_file = {line["file"]: line for line in lines}
    assert set(by_file) == {"camunda7/juel_conditions.bpmn", "bpmnio/descriptive.bpmn",
                            "bpmnio/python_conditions.bpmn", "camunda8/message_start.bpmn", "bpmnio/broken.bpmn"}
    for line in lines:
        assert set(line) == {"file", "dialect", "exporter", "imported", "deployable", "ran_to_end", "reasons"}
        assert line["deployable"] or line["reasons"], f"{line['file']} failed without a reason"
    assert by_file["bpmnio/broken.bpmn"]["imported"] is False
    assert "not well-formed" in by_file["bpmnio/broken.bpmn"]["reasons"][0]
    descriptive = by_file["bpmnio/descriptive.bpmn"]
    assert descriptive["imported"] and not descriptive["deployable"] and descriptive["ran_to_end"] is None
    assert by_file["camunda7/juel_conditions.bpmn"]["dialect"] == "camunda7"
    assert by_file["camunda8/message_start.bpmn"]["dialect"] == "camunda8"
    assert by_file["camunda8/message_start.bpmn"]["ran_to_end"] is True, "started by its message, as it would be"
    juel = by_file["camunda7/juel_conditions.bpmn"]
    assert juel["deployable"] and juel["ran_to_end"] is False, "its first form requires an amount"
    assert "name 'amount' is not defined" in juel["reasons"][-1]


def test_summary_table_counts_by_dialect_and_exporter(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--summary", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "by dialect" in out and "by exporter" in out and "top reasons" in out
    total = next(line for line in out.splitlines() if line.startswith("all"))
    assert total.split()[1:] == ["5", "4", "3"], "files, imported, deployable (no run column without --run)"
    assert main(["validate", "--summary", str(folder / "nowhere")]) == 2


def test_readable_report_lists_translated_elements_with_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXPORTS / "camunda7" / "juel_conditions.bpmn")]) == 0
    out = capsys.readouterr().out
    assert "juel_conditions.bpmn  (bpmn, camunda7, Camunda Modeler" in out
    translated = [line for line in out.splitlines() if "translated" in line and "JUEL" in line]
    assert translated and all(line.split()[0].isdigit() for line in translated), "each row starts with its line"
    assert out.rstrip().endswith("deployable")


COLLABORATION = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
                  targetNamespace="https://panjereh.example/tests">
  <bpmn:message id="m_order" name="order" />
  <bpmn:message id="m_confirmation" name="confirmation" />
  <bpmn:collaboration id="c">
    <bpmn:participant id="p1" processRef="customer" />
    <bpmn:participant id="p2" processRef="shop" />
    <bpmn:messageFlow id="mf1" sourceRef="send_order" targetRef="shop_start" />
    <bpmn:messageFlow id="mf2" sourceRef="confirm" targetRef="wait_confirmation" />
  </bpmn:collaboration>
  <bpmn:process id="customer" isExecutable="true">
    <bpmn:startEvent id="c_start" />
    <bpmn:intermediateThrowEvent id="send_order"><bpmn:messageEventDefinition messageRef="m_order" />
    </bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="wait_confirmation">
      <bpmn:messageEventDefinition messageRef="m_confirmation" /></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="c_end" />
    <bpmn:sequenceFlow id="c1" sourceRef="c_start" targetRef="send_order" />
    <bpmn:sequenceFlow id="c2" sourceRef="send_order" targetRef="wait_confirmation" />
    <bpmn:sequenceFlow id="c3" sourceRef="wait_confirmation" targetRef="c_end" />
  </bpmn:process>
  <bpmn:process id="shop" isExecutable="true">
    <bpmn:startEvent id="shop_start"><bpmn:messageEventDefinition messageRef="m_order" /></bpmn:startEvent>
    <bpmn:userTask id="pack" name="Pack the order" />
    <bpmn:endEvent id="confirm"><bpmn:messageEventDefinition messageRef="m_confirmation" /></bpmn:endEvent>
    <bpmn:sequenceFlow id="s1" sourceRef="shop_start" targetRef="pack" />
    <bpmn:sequenceFlow id="s2" sourceRef="pack" targetRef="confirm" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_pools_of_a_collaboration_run_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "order.bpmn").write_bytes(COLLABORATION)
    assert main(["validate", "--summary", str(tmp_path), "--run", "--json"]) == 0
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["deployable"] is True
    assert line["ran_to_end"] is True, line["reasons"]


def test_a_partner_pool_answers_before_anything_comes_from_outside(settings: Settings) -> None:
    loaded, report = check([UploadedFile("order.bpmn", COLLABORATION)], settings)
    assert loaded is not None, report.problems
    ended, why, dry = drive(loaded, ["customer", "shop"], "customer")
    assert ended, why
    assert dry.from_outside == 0, "the confirmation came from the shop's pool"
    assert [e.status for e in dry.running] == ["completed", "completed"]


WAITS_FOR_PAYMENT = model("\n".join([
    '<bpmn:startEvent id="s" />',
    '<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="m_paid" />'
    "</bpmn:intermediateCatchEvent>",
    '<bpmn:endEvent id="e" />', flow("f0", "s", "paid"), flow("f1", "paid", "e"),
])).replace(b"</bpmn:definitions>", b'<bpmn:message id="m_paid" name="paid" /></bpmn:definitions>')


def test_a_message_no_pool_sends_comes_from_outside_and_is_counted(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "payment.bpmn").write_bytes(WAITS_FOR_PAYMENT)
    assert main(["validate", "--summary", str(tmp_path), "--run", "--json"]) == 0
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["ran_to_end"] is True, line["reasons"]
    assert main(["validate", "--summary", str(tmp_path), "--run"]) == 0
    assert "1 of the runs that reached an end needed a message or signal from outside" in capsys.readouterr().out


def two_processes(first: str, second: str) -> bytes:
    """A file with two executable processes, each a start, one script and an end."""
    one = model("\n".join(['<bpmn:startEvent id="s1" />', script("t1", first), '<bpmn:endEvent id="e1" />',
                           flow("f1", "s1", "t1"), flow("f2", "t1", "e1")]), key="first")
    other = (f'<bpmn:process id="second" isExecutable="true"><bpmn:startEvent id="s2" />{script("t2", second)}'
             f'<bpmn:endEvent id="e2" />{flow("f3", "s2", "t2")}{flow("f4", "t2", "e2")}</bpmn:process>')
    return one.replace(b"</bpmn:definitions>", other.encode() + b"</bpmn:definitions>")


def test_a_file_runs_when_one_of_its_processes_reaches_an_end(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "one_runs.bpmn").write_bytes(two_processes("x = missing + 1", "y = 2"))
    (tmp_path / "none_runs.bpmn").write_bytes(two_processes("x = missing + 1", "y = absent * 2"))
    assert main(["validate", "--summary", str(tmp_path), "--run", "--json"]) == 0
    lines = {line["file"]: line for line in map(json.loads, capsys.readouterr().out.splitlines())}
    assert lines["one_runs.bpmn"]["ran_to_end"] is True and lines["one_runs.bpmn"]["reasons"] == []
    failed = lines["none_runs.bpmn"]
    assert failed["ran_to_end"] is False
    assert [r.split(":")[0] for r in failed["reasons"]] == ["run of 'first'", "run of 'second'"]
    assert "'missing' is not defined" in failed["reasons"][0] and "'absent' is not defined" in failed["reasons"][1]


def calling(key: str, callee: str | None, code: str = "done = True") -> bytes:
    """A process `key`: a script, then a call to `callee` when there is one."""
    steps = ['<bpmn:startEvent id="s" />', script("work", code), '<bpmn:endEvent id="e" />']
    if callee is None:
        return model("\n".join([*steps, flow("f0", "s", "work"), flow("f1", "work", "e")]), key=key)
    return model("\n".join([*steps, f'<bpmn:callActivity id="call" calledElement="{callee}" />',
                            flow("f0", "s", "work"), flow("f1", "work", "call"), flow("f2", "call", "e")]), key=key)


def test_called_processes_come_from_the_folder_with_what_they_call(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "orderA.bpmn").write_bytes(calling("order", "pack"))
    (tmp_path / "orderA-pack.bpmn").write_bytes(calling("pack", "label"))
    (tmp_path / "orderB-pack.bpmn").write_bytes(calling("pack", None, "x = nothing_here"))
    (tmp_path / "label.bpmn").write_bytes(calling("label", None))
    assert main(["validate", "--summary", str(tmp_path), "--run", "--json"]) == 0
    lines = {line["file"]: line for line in map(json.loads, capsys.readouterr().out.splitlines())}
    assert lines["orderA.bpmn"]["ran_to_end"] is True, "pack from orderA-pack.bpmn, and label, which it calls"
    assert lines["orderA.bpmn"]["reasons"] == []


def test_a_start_waiting_for_two_messages_gets_each_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = model("\n".join([
        '<bpmn:startEvent id="s" parallelMultiple="true"><bpmn:messageEventDefinition messageRef="m1" />'
        '<bpmn:messageEventDefinition messageRef="m2" /></bpmn:startEvent>',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "e"),
    ])).replace(b"</bpmn:definitions>", b'<bpmn:message id="m1" name="one" /><bpmn:message id="m2" name="two" />'
                b"</bpmn:definitions>")
    (tmp_path / "both.bpmn").write_bytes(both)
    assert main(["validate", "--summary", str(tmp_path), "--run", "--json"]) == 0
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["ran_to_end"] is True, line["reasons"]


DECIDES = model("\n".join([
    '<bpmn:startEvent id="s" />',
    '<bpmn:businessRuleTask id="fee" camunda:decisionRef="fee_table" camunda:resultVariable="fee" '
    'camunda:mapDecisionResult="singleEntry" />',
    '<bpmn:endEvent id="e" />', flow("f0", "s", "fee"), flow("f1", "fee", "e"),
]), "camunda7")
FEE_TABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="n">
  <decision id="fee_table" name="Fee">
    <decisionTable id="t" hitPolicy="FIRST">
      <output id="o" name="fee" typeRef="number" />
      <rule id="r"><outputEntry id="oe"><text>120</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_decisions_kept_in_a_subfolder_are_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dmn").mkdir()
    (tmp_path / "licence.bpmn").write_bytes(DECIDES)
    (tmp_path / "dmn" / "fees.dmn").write_bytes(FEE_TABLE)
    assert main(["validate", "--summary", str(tmp_path), "--run", "--json"]) == 0
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["deployable"] and line["ran_to_end"] is True, line["reasons"]
