"""Elements the BPMN and DMN schemas do not allow are refused, with their line; open content is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.report import Report
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model

XI = 'xmlns:xi="http://www.w3.org/2001/XInclude"'
EXPORTS = Path(__file__).resolve().parents[2] / "designer_exports"


def _check(settings: Settings, body: str, dmn: str | None = None) -> Report:
    files = [UploadedFile("p.bpmn", model('<bpmn:startEvent id="s"/>' + body + '<bpmn:endEvent id="e"/>'
                                          + flow("f", "s", "e")))]
    if dmn is not None:
        files.append(UploadedFile("d.dmn", dmn.encode()))
    return check(files, settings)[1]


@pytest.mark.parametrize("body, words, element", [
    (f'<xi:include {XI} href="file:///etc/passwd" parse="text"/>', "<xi:include> (namespace "
     "http://www.w3.org/2001/XInclude) is not part of BPMN", "p"),
    (f'<bpmn:task id="t"><xi:include {XI} href="x"/></bpmn:task>', "<xi:include>", "t"),
    ('<bpmn:task id="t"><bpmn:incoming>f</bpmn:incoming><other:thing xmlns:other="urn:x"/></bpmn:task>',
     "<other:thing> (namespace urn:x) is not part of BPMN", "t"),
    ('<plain/>', "<plain> (no namespace) is not part of BPMN", "p"),
    ('<bpmn:banana id="b"/>', "<bpmn:banana> is not a BPMN element", "p"),
    # The schema lets a script hold one element; the engine would run the text without it.
    (f'<bpmn:scriptTask id="t"><bpmn:script>x = 1<xi:include {XI} href="y.py"/></bpmn:script></bpmn:scriptTask>',
     "inside <script>", "t"),
    ('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3<bpmn:task id="n"/>'
     "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:task>", "inside <loopCardinality>", "t"),
])
def test_an_element_the_schema_forbids_is_refused_naming_its_line(settings: Settings, body: str, words: str,
                                                                   element: str) -> None:
    report = _check(settings, body)
    assert not report.deployable
    refusals = [p for p in report.problems if p.severity == "error" and words in p.message]
    assert refusals, [str(p) for p in report.problems]
    assert refusals[0].line == 4 and refusals[0].element_id == element and refusals[0].file == "p.bpmn"


@pytest.mark.parametrize("body", [
    f'<bpmn:task id="t"><bpmn:extensionElements><xi:include {XI} href="x"/><any:thing xmlns:any="urn:x">'
    "<nested/></any:thing></bpmn:extensionElements></bpmn:task>",
    f'<bpmn:task id="t"><bpmn:documentation>See <xi:include {XI} href="x"/> first</bpmn:documentation>'
    '<bpmn:documentation>and <b>this</b></bpmn:documentation></bpmn:task>',
    '<bpmn:textAnnotation id="a"><bpmn:text>note <em xmlns="http://www.w3.org/1999/xhtml">this</em></bpmn:text>'
    "</bpmn:textAnnotation>",
])
def test_what_the_schema_leaves_open_stays_open(settings: Settings, body: str) -> None:
    report = _check(settings, body)
    assert report.deployable, [str(p) for p in report.problems]


DMN = ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
       'xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" '
       'id="d" name="D" namespace="x">\n<decision id="fee" name="Fee">{decision}<decisionTable id="table">\n'
       '<input id="i"><inputExpression id="ie"><text>age</text></inputExpression></input>\n'
       '<output id="o" name="fee"/>\n<rule id="r"><inputEntry id="en"><text>&gt;= 18</text></inputEntry>\n'
       '<outputEntry id="out"><text>{cell}</text></outputEntry></rule>\n</decisionTable>\n</decision>\n'
       '<dmndi:DMNDI><dmndi:DMNDiagram id="dd"><dmndi:DMNShape id="ds" dmnElementRef="fee">'
       '<dc:Bounds height="80" width="180" x="160" y="100"/></dmndi:DMNShape></dmndi:DMNDiagram></dmndi:DMNDI>\n'
       "</definitions>\n")


def test_decisions_follow_the_dmn_schema(settings: Settings) -> None:
    task = '<bpmn:businessRuleTask id="t"/>'
    fine = _check(settings, task, DMN.format(
        decision='<extensionElements><x:y xmlns:x="urn:x"/></extensionElements>', cell="10"))
    assert not [p for p in fine.problems if p.file == "d.dmn" and p.severity == "error"], fine.problems
    foreign = _check(settings, task, DMN.format(decision=f'<xi:include {XI} href="x"/>', cell="10"))
    assert any("<xi:include>" in p.message and p.file == "d.dmn" and p.line == 3 and p.element_id == "fee"
               for p in foreign.problems if p.severity == "error"), foreign.problems
    in_cell = _check(settings, task, DMN.format(decision="", cell=f'10<xi:include {XI} href="x"/>'))
    assert any("inside <text>" in p.message for p in in_cell.problems if p.severity == "error"), in_cell.problems


def test_every_designer_export_still_passes(settings: Settings) -> None:
    for path in sorted(EXPORTS.glob("*/*.bpmn")) + sorted(EXPORTS.glob("*/*.dmn")):
        report = check([UploadedFile(path.name, path.read_bytes())], settings)[1]
        assert not [p for p in report.problems if "not part of" in p.message or "is not a BPMN element" in p.message
                    or "is not a DMN element" in p.message], (path.name, [str(p) for p in report.problems])
