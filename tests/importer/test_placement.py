"""Elements the BPMN or DMN schema does not allow where they stand are refused, naming the line and the parent.

The cases an outside tester found deployable, and more of the same kinds; the generator
over every element of the schemas is in `test_placement_generated`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.core.documents import Document
from engine.core.package import schema_check
from engine.core.report import Report
from engine.headless import run_model
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model, script

ROOT = Path(__file__).resolve().parents[2]
XI = 'xmlns:xi="http://www.w3.org/2001/XInclude"'
DMN12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"


def _check(settings: Settings, body: str) -> Report:
    document = model('<bpmn:startEvent id="s"/>' + body + '<bpmn:endEvent id="e"/>' + flow("f", "s", "e"))
    return check([UploadedFile("p.bpmn", document)], settings)[1]


# Each body starts on line 4 of the document; the element out of place stands on line 5.
@pytest.mark.parametrize("body, words, element", [
    pytest.param('<bpmn:userTask id="u">\n<bpmn:scriptTask id="x"><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'
                 "</bpmn:userTask>", "<bpmn:scriptTask> is not allowed inside <bpmn:userTask>", "u",
                 id="scriptTask-in-userTask"),
    pytest.param('<bpmn:userTask id="u">\n<bpmn:timerEventDefinition id="td">'
                 "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:userTask>",
                 "<bpmn:timerEventDefinition> is not allowed inside <bpmn:userTask>", "u", id="timer-in-userTask"),
    pytest.param('<bpmn:userTask id="u">\n<bpmn:conditionExpression>approved</bpmn:conditionExpression>'
                 "</bpmn:userTask>",
                 "<bpmn:conditionExpression> is not allowed inside <bpmn:userTask>", "u", id="condition-in-userTask"),
    pytest.param('<bpmn:userTask id="u">\n<bpmn:script>a = 1</bpmn:script></bpmn:userTask>',
                 "<bpmn:script> is not allowed inside <bpmn:userTask>", "u", id="script-in-userTask"),
    pytest.param('<bpmn:task id="t"/>\n<bpmn:process id="inner"><bpmn:startEvent id="s2"/></bpmn:process>',
                 "<bpmn:process> is not allowed inside <bpmn:process>", "p", id="process-in-process"),
    pytest.param('<bpmn:task id="t"/><bpmn:sequenceFlow id="g" sourceRef="t" targetRef="e">\n<bpmn:userTask id="v"/>'
                 "</bpmn:sequenceFlow>", "<bpmn:userTask> is not allowed inside <bpmn:sequenceFlow>", "g",
                 id="userTask-in-sequenceFlow"),
    pytest.param('<bpmn:scriptTask id="t"><bpmn:script>a = 1</bpmn:script>\n<bpmn:script>a = 2</bpmn:script>'
                 "</bpmn:scriptTask>",
                 "<bpmn:script> is one too many in <bpmn:scriptTask>: in BPMN, <bpmn:scriptTask> holds at most one "
                 "<script>", "t", id="two-scripts"),
    pytest.param('<bpmn:task id="t"/>\n<bpmn:definitions id="d2" targetNamespace="x"/>',
                 "<bpmn:definitions> is not allowed inside <bpmn:process>", "p", id="definitions-in-process"),
    # The same kinds, beyond the tester's examples.
    pytest.param('<bpmn:intermediateCatchEvent id="c"><bpmn:timerEventDefinition id="td">'
                 "<bpmn:timeDate>2030-01-01T00:00:00Z</bpmn:timeDate>\n<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"
                 "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
                 "<bpmn:timeCycle> cannot stand beside <bpmn:timeDate> in <bpmn:timerEventDefinition>", "td",
                 id="two-branches-of-a-choice"),
    pytest.param('<bpmn:task id="t"><bpmn:extensionElements>\n<bpmn:script>a = 1</bpmn:script>'
                 "</bpmn:extensionElements></bpmn:task>",
                 "<bpmn:script> is not allowed inside <bpmn:extensionElements>", "t", id="bpmn-in-extensionElements"),
    pytest.param('<bpmn:task id="t"><bpmn:extensionElements/>\n<bpmn:extensionElements/></bpmn:task>',
                 "<bpmn:extensionElements> is one too many in <bpmn:task>", "t", id="two-extensionElements"),
    pytest.param('<bpmn:task id="t"><bpmn:documentation><b>one</b>\n<i>two</i></bpmn:documentation></bpmn:task>',
                 "<i> is one too many in <bpmn:documentation>", "t", id="two-elements-in-documentation"),
    pytest.param('<bpmn:task id="t"><bpmn:incoming>f\n<bpmn:task id="q"/></bpmn:incoming></bpmn:task>',
                 "<bpmn:task> is not allowed inside <bpmn:incoming>: in BPMN, <bpmn:incoming> holds text only", "t",
                 id="element-in-text"),
    pytest.param('<bpmn:task id="t"/>\n<bpmn:flowElement id="fe"/>',
                 "<bpmn:flowElement> inside <bpmn:process> names a kind of BPMN element", "p", id="abstract-element"),
    pytest.param('<bpmn:task id="t">\n<bpmn:task id="x"><bpmn:script>a = 1</bpmn:script></bpmn:task></bpmn:task>',
                 "<bpmn:task> is not allowed inside <bpmn:task>", "t", id="task-in-task"),
    pytest.param('<bpmn:task id="t"/>\n<bpmn:task id="x" xsi:type="bpmn:tScriptTask"><bpmn:script>a = 1</bpmn:script>'
                 "</bpmn:task>", 'has xsi:type="bpmn:tScriptTask"', "p", id="xsi-type-with-other-content"),
    pytest.param('<bpmn:task id="t"/>\n<bpmndi:BPMNShape xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
                 'id="sh" bpmnElement="t"/>', "<bpmndi:BPMNShape> is not allowed inside <bpmn:process>", "p",
                 id="diagram-element-in-process"),
    # Open content: the schema's lax wildcards take these, SpiffWorkflow finds and reads them.
    pytest.param('<bpmn:exclusiveGateway id="gw" default="g2"/><bpmn:sequenceFlow id="g1" sourceRef="gw" '
                 'targetRef="e"><bpmn:documentation>\n<bpmn:conditionExpression>True</bpmn:conditionExpression>'
                 '</bpmn:documentation></bpmn:sequenceFlow><bpmn:sequenceFlow id="g2" sourceRef="gw" targetRef="e"/>',
                 "<bpmn:conditionExpression> inside <bpmn:documentation> is BPMN hidden", "g1",
                 id="condition-in-documentation"),
    pytest.param('<bpmn:startEvent id="s2"><bpmn:documentation>\n<bpmn:timerEventDefinition id="td">'
                 "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:documentation>"
                 "</bpmn:startEvent>", "<bpmn:timerEventDefinition> inside <bpmn:documentation> is BPMN hidden", "s2",
                 id="timer-in-documentation"),
    pytest.param('<bpmn:scriptTask id="t"><bpmn:extensionElements><x:y xmlns:x="urn:x"><x:z>\n'
                 "<bpmn:script>a = 1</bpmn:script></x:z></x:y></bpmn:extensionElements></bpmn:scriptTask>",
                 "<bpmn:script> inside <x:z> is BPMN hidden", "t", id="script-deep-in-an-extension"),
])
def test_an_element_out_of_place_is_refused_naming_line_and_parent(settings: Settings, body: str, words: str,
                                                                  element: str) -> None:
    report = _check(settings, body)
    assert not report.deployable
    refusals = [p for p in report.problems if p.severity == "error" and words in p.message]
    assert refusals, [str(p) for p in report.problems]
    assert (refusals[0].file, refusals[0].line, refusals[0].element_id) == ("p.bpmn", 5, element)


@pytest.mark.parametrize("body", [
    # Some tools write their extensions in the BPMN namespace, with names BPMN does not declare.
    '<bpmn:task id="t"><bpmn:extensionElements><vp:x xmlns:vp="urn:vp"><bpmn:IntegerProperty name="a" value="1"/>'
    "</vp:x></bpmn:extensionElements></bpmn:task>",
    # And some nest an extensionElements in their own extension, with more of theirs inside.
    '<bpmn:task id="t"><bpmn:extensionElements><tr:items xmlns:tr="urn:tr"><tr:item><bpmn:extensionElements>'
    "<tr:more/></bpmn:extensionElements></tr:item></tr:items></bpmn:extensionElements></bpmn:task>",
])
def test_other_vocabularies_keep_their_content(settings: Settings, body: str) -> None:
    report = _check(settings, body)
    assert report.deployable, [str(p) for p in report.problems]


EXTENSION = '<bpmn:extensionElements><x:y xmlns:x="urn:x">{}</x:y></bpmn:extensionElements>'


@pytest.mark.parametrize("body", [
    # SpiffWorkflow took any tag ending in "sequenceFlow" for a flow, and followed it;
    '<bpmn:startEvent id="s">' + EXTENSION.format('<x:sequenceFlow id="z" sourceRef="s" targetRef="h"/>')
    + '</bpmn:startEvent>' + script("h", 'hidden = "ran"') + '<bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
    + flow("f", "s", "e") + flow("g", "h", "e2"),
    # ... any tag ending in "boundaryEvent" for a boundary event.
    '<bpmn:startEvent id="s"/><bpmn:task id="t">'
    + EXTENSION.format('<x:boundaryEvent id="b" attachedToRef="t"/>') + '</bpmn:task><bpmn:endEvent id="e"/>'
    + flow("f", "s", "t") + flow("g", "t", "e"),
    # ... and an extension element carrying a task's id for the task.
    '<bpmn:startEvent id="s"/><bpmn:task id="t"/><bpmn:endEvent id="e">' + EXTENSION.format('<x:z id="t"/>')
    + '</bpmn:endEvent>' + flow("f", "s", "t") + flow("g", "t", "e"),
], ids=["sequenceFlow", "boundaryEvent", "same-id"])
def test_extension_content_is_never_read_as_bpmn(settings: Settings, body: str) -> None:
    run = run_model([UploadedFile("p.bpmn", model(body))], settings, {}, {"t": {}}, {})
    assert run.status == "completed" and run.path[0] == "s" and run.path[-1] == "e", run
    assert "h" not in run.path and "hidden" not in run.data, run


def test_order_among_allowed_children_is_a_warning(settings: Settings) -> None:
    # Backwards: outgoing before incoming, extensionElements after both, documentation last.
    report = _check(settings, '<bpmn:task id="t"><bpmn:outgoing>f2</bpmn:outgoing><bpmn:incoming>f</bpmn:incoming>'
                              "<bpmn:extensionElements/><bpmn:documentation>why</bpmn:documentation></bpmn:task>"
                              + flow("f2", "t", "e"))
    assert not [p for p in report.problems if p.severity == "error" and p.file == "p.bpmn" and p.line == 4], \
        [str(p) for p in report.problems]
    assert any(p.severity == "warning" and "not valid against the BPMN schema" in p.message and p.line == 4
               for p in report.problems), [str(p) for p in report.problems]


def test_xsi_type_that_changes_nothing_is_taken(settings: Settings) -> None:
    report = _check(settings, '<bpmn:exclusiveGateway id="g" default="f2"/>'
                              '<bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="e"><bpmn:conditionExpression '
                              'xsi:type="bpmn:tFormalExpression">x == 1</bpmn:conditionExpression></bpmn:sequenceFlow>'
                              '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e"/>')
    assert not [p for p in report.problems if p.severity == "error" and "xsi:type" in p.message], report.problems


def test_refusals_are_bounded_per_document(settings: Settings) -> None:
    report = _check(settings, '<bpmn:task id="t">' + "<bpmn:script>x</bpmn:script>" * 300 + "</bpmn:task>")
    refused = [p for p in report.problems if p.severity == "error" and p.file == "p.bpmn"]
    assert len([p for p in refused if "<bpmn:script> is not allowed inside <bpmn:task>" in p.message]) == 50
    assert any("and 250 more elements the BPMN schema does not allow" in p.message for p in refused), refused


def _decision(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="D" namespace="x">\n'
            f'<decision id="fee" name="Fee">\n{body}\n</decision>\n</definitions>\n').encode()


# Each body starts on line 4 of the document.
@pytest.mark.parametrize("body, words, element", [
    pytest.param('<decisionTable id="a"><output id="o1" name="x"/></decisionTable>'
                 '<decisionTable id="b"><output id="o2" name="y"/></decisionTable>',
                 "<decisionTable> is one too many in <decision>", "fee", id="two-tables-in-a-decision"),
    pytest.param('<literalExpression id="l"><text>1</text></literalExpression>'
                 '<decisionTable id="b"><output id="o2" name="y"/></decisionTable>',
                 "<decisionTable> is one too many in <decision>", "fee", id="two-kinds-of-expression"),
    pytest.param('<decisionTable id="a"><input id="i"><rule id="r"/></input><output id="o" name="x"/></decisionTable>',
                 "<rule> is not allowed inside <input>", "i", id="rule-in-input"),
    pytest.param('<decisionTable id="a"><output id="o" name="x"/><rule id="r"><inputEntry id="e"><text>1</text>'
                 "<text>2</text></inputEntry></rule></decisionTable>", "<text> is one too many in <inputEntry>", "e",
                 id="two-texts-in-a-cell"),
    pytest.param('<decisionTable id="a"><output id="o" name="x"/><decision id="inner"/></decisionTable>',
                 "<decision> is not allowed inside <decisionTable>", "a", id="decision-in-table"),
])
def test_a_decision_out_of_place_is_refused_naming_line_and_parent(settings: Settings, body: str, words: str,
                                                                  element: str) -> None:
    report = check([UploadedFile("d.dmn", _decision(body))], settings)[1]
    refusals = [p for p in report.problems if p.severity == "error" and words in p.message]
    assert refusals, [str(p) for p in report.problems]
    assert (refusals[0].file, refusals[0].line, refusals[0].element_id) == ("d.dmn", 4, element)


DMN12_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<definitions xmlns="{DMN12}" xmlns:dmndi="http://www.omg.org/spec/DMN/20180521/DMNDI/" '
    'xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="d" name="D" namespace="x">\n'
    '<decision id="fee" name="Fee"><decisionTable id="table">\n'
    '<input id="i"><inputExpression id="ie"><text>age</text></inputExpression></input>\n'
    '<output id="o" name="fee"/>\n<rule id="r"><inputEntry id="en"><text>&gt;= 18</text></inputEntry>\n'
    '<outputEntry id="out"><text>10</text></outputEntry></rule>\n</decisionTable>\n</decision>\n'
    '<dmndi:DMNDI><dmndi:DMNDiagram id="dd"><dmndi:DMNShape id="ds" dmnElementRef="fee">{inside}\n'
    '<dc:Bounds height="80" width="180" x="160" y="100"/></dmndi:DMNShape></dmndi:DMNDiagram></dmndi:DMNDI>\n'
    "</definitions>\n")


def test_dmn_1_2_is_judged_though_its_xsd_does_not_compile(settings: Settings) -> None:
    # SpiffWorkflow's DMN 1.2 schema imports its DI namespace from a file that declares another.
    task = model('<bpmn:startEvent id="s"/><bpmn:businessRuleTask id="t"/><bpmn:endEvent id="e"/>'
                 + flow("f", "s", "t") + flow("g", "t", "e"))
    fine = check([UploadedFile("p.bpmn", task), UploadedFile("d.dmn", DMN12_DOCUMENT.format(inside="").encode())],
                 settings)[1]
    assert not [p for p in fine.problems if p.file == "d.dmn" and p.severity == "error"], fine.problems
    assert any("DMN schema" in p.message and "cannot be compiled" in p.message for p in fine.problems), fine.problems
    foreign = check([UploadedFile("d.dmn", DMN12_DOCUMENT.format(inside=f'<xi:include {XI} href="x"/>').encode())],
                    settings)[1]
    assert any("<xi:include>" in p.message and p.file == "d.dmn" and p.line == 10 and p.element_id == "ds"
               for p in foreign.problems if p.severity == "error"), foreign.problems
    # The parser finds decisions anywhere in the document, the diagram included.
    hidden = check([UploadedFile("d.dmn", DMN12_DOCUMENT.format(inside='<decision id="x" name="X"/>').encode())],
                   settings)[1]
    assert any("<decision> inside <dmndi:DMNShape> is DMN hidden" in p.message and p.line == 10
               for p in hidden.problems if p.severity == "error"), hidden.problems


def test_every_designer_export_and_service_stands_as_the_schema_allows() -> None:
    paths = [*ROOT.glob("designer_exports/*/*.bpmn"), *ROOT.glob("designer_exports/*/*.dmn"),
             *ROOT.glob("processes/*/*.bpmn"), *ROOT.glob("processes/*/*.dmn")]
    assert len(paths) > 30
    for path in sorted(paths):
        report = Report()
        schema_check(Document(path.name, "dmn" if path.suffix == ".dmn" else "bpmn", etree.parse(str(path)).getroot()),
                     report)
        assert report.deployable, (path, [str(p) for p in report.problems])
