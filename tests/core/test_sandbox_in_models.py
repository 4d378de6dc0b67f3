"""Every known sandbox escape, placed in a BPMN script task or condition, is stopped with an
error that names the task: at deploy time when it can be seen in the text, at run time
otherwise (CPU and memory bombs). Nothing it attempts happens."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from engine.core.execution import Execution, make_script_engine
from engine.core.sandbox import SandboxLimits
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.core.sandbox_escapes import ESCAPES

SCRIPT_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="hostile_process" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="hostile" name="Hostile script" scriptFormat="python">
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>
      <bpmn:script>{code}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="hostile" />
    <bpmn:sequenceFlow id="b" sourceRef="hostile" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""

CONDITION_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">
  <bpmn:process id="hostile_process" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="hostile" name="Hostile gateway" default="no">
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>yes</bpmn:outgoing><bpmn:outgoing>no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="e1"><bpmn:incoming>yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e2"><bpmn:incoming>no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="hostile" />
    <bpmn:sequenceFlow id="yes" sourceRef="hostile" targetRef="e1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{code}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="hostile" targetRef="e2" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("name, kind, code", ESCAPES, ids=[e[0] for e in ESCAPES])
def test_escape_is_stopped_and_names_the_task(name: str, kind: str, code: str) -> None:
    template = SCRIPT_MODEL if kind == "exec" else CONDITION_MODEL
    model = template.format(code=escape(code)).encode()
    loaded, report = check([UploadedFile("hostile.bpmn", model)], Settings())
    if loaded is None:
        errors = [p for p in report.problems if p.severity == "error"]
        assert errors, report.problems
        assert all(p.element_id in ("hostile", "yes") for p in errors), errors
        return
    engine = make_script_engine(SandboxLimits(cpu_seconds=0.5))
    execution = Execution.start(loaded.compiled, "hostile_process", {}, engine)
    with pytest.raises(Exception) as caught:
        execution.advance()
    assert execution.status == "failed"
    assert "Hostile" in str(caught.value), str(caught.value)
