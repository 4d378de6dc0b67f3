"""Camunda 7 and 8 extensions and foreign expressions, carried over and reported per element."""

from __future__ import annotations

from typing import Any

from engine.bpmn.dialect import detect
from engine.bpmn.safe_xml import load_xml
from engine.headless import run_model
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model, script


def report_of(settings: Settings, *files: tuple[str, bytes]) -> Any:
    return check([UploadedFile(name, content) for name, content in files], settings)


def elements(report: Any) -> dict[str, Any]:
    return {e.element_id: e for e in report.elements}


def test_dialects_are_told_apart() -> None:
    for dialect in ("camunda7", "camunda8", "bpmn"):
        root = load_xml(model('<bpmn:startEvent id="s" />', dialect), name="m.bpmn", max_bytes=10**6, max_depth=64)
        assert detect(root).dialect == dialect
    spiff = model('<bpmn:scriptTask id="t"><bpmn:extensionElements><spiffworkflow:preScript>a = 1'
                  "</spiffworkflow:preScript></bpmn:extensionElements></bpmn:scriptTask>", "spiffarena")
    assert detect(load_xml(spiff, name="m", max_bytes=10**6, max_depth=64)).dialect == "spiffarena"


CAMUNDA7 = model("\n".join([
    '<bpmn:startEvent id="s" />',
    '<bpmn:userTask id="review" camunda:candidateGroups="licensing" camunda:asyncBefore="true">'
    "<bpmn:extensionElements><camunda:inputOutput>"
    '<camunda:inputParameter name="limit">${base * 2}</camunda:inputParameter>'
    '<camunda:inputParameter name="tags"><camunda:list><camunda:value>a</camunda:value>'
    "<camunda:value>${base}</camunda:value></camunda:list></camunda:inputParameter>"
    '<camunda:outputParameter name="checked">${limit &gt; 10}</camunda:outputParameter>'
    "</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>",
    '<bpmn:serviceTask id="legacy" camunda:class="gov.agency.LegacyDelegate" />',
    '<bpmn:serviceTask id="lookup" camunda:type="external" camunda:topic="civil_registry/person_by_national_code">'
    "<bpmn:extensionElements><camunda:inputOutput>"
    '<camunda:inputParameter name="national_code">${applicant}</camunda:inputParameter>'
    "</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>",
    '<bpmn:exclusiveGateway id="g" default="low" />', script("big", "size = 'big'"), script("small", "size = 'small'"),
    '<bpmn:endEvent id="e" />',
    flow("f0", "s", "review"), flow("f1", "review", "legacy"), flow("f2", "legacy", "lookup"),
    flow("f3", "lookup", "g"),
    flow("high", "g", "big", "${checked && not empty tags}"), flow("low", "g", "small"),
    flow("f4", "big", "e"), flow("f5", "small", "e"),
]), "camunda7")


def test_camunda7_mappings_lanes_and_bindings_are_carried_over(settings: Settings) -> None:
    loaded, report = report_of(settings, ("m.bpmn", CAMUNDA7))
    assert loaded is not None, [str(p) for p in report.problems]
    found = elements(report)
    assert found["review"].status == "translated"
    details = " | ".join(found["review"].details)
    assert "pre-script `limit = base * 2`" in details and "lane 'licensing'" in details
    assert "asyncBefore noted" in details
    assert found["legacy"].status == "needs attention" and "bind a connector" in found["legacy"].details[0]
    assert "gov.agency.LegacyDelegate" in found["legacy"].details[0]
    assert found["lookup"].status == "translated" and "civil_registry/person_by_national_code" in found[
        "lookup"].details[0]
    assert found["high"].status == "translated" and "JUEL" in found["high"].details[0]
    spec, _ = loaded.compiled.spec("p")
    assert spec.task_specs["review"].lane == "licensing"

    run = run_model([UploadedFile("m.bpmn", CAMUNDA7)], settings, {"base": 6, "applicant": "0013542419"},
                    {"review": {}}, {"legacy": {}, "lookup": {"first_name": "Sara"}})
    assert run.status == "completed", run.error
    assert run.data["limit"] == 12 and run.data["tags"] == ["a", 6] and run.data["checked"] is True
    assert run.data["size"] == "big"


def test_zeebe_mappings_and_feel_conditions_run(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:userTask id="t"><bpmn:extensionElements><zeebe:ioMapping>'
        '<zeebe:input source="=amount * 2" target="doubled" />'
        '<zeebe:output source="=doubled in [10..100]" target="in_range" />'
        "</zeebe:ioMapping></bpmn:extensionElements></bpmn:userTask>",
        '<bpmn:exclusiveGateway id="g" default="no" />', script("yes_task", "r = 'yes'"), script("no_task", "r = 'no'"),
        '<bpmn:endEvent id="e" />',
        flow("f0", "s", "t"), flow("f1", "t", "g"), flow("yes", "g", "yes_task", '=in_range and status = "ok"'),
        flow("no", "g", "no_task"), flow("f2", "yes_task", "e"), flow("f3", "no_task", "e"),
    ]), "camunda8")
    ok = run_model([UploadedFile("m.bpmn", content)], settings, {"amount": 20, "status": "ok"}, {"t": {}}, {})
    assert ok.status == "completed" and ok.data["doubled"] == 40
    assert ok.data["in_range"] is True and ok.data["r"] == "yes"
    out = run_model([UploadedFile("m.bpmn", content)], settings, {"amount": 60, "status": "ok"}, {"t": {}}, {})
    assert out.data["in_range"] is False and out.data["r"] == "no"


def test_bpmn_xpath_conditions_read_data_objects(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" default="other" />',
        script("a", "r = 1"), script("b", "r = 2"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), flow("yes", "g", "a", "bpmn:getDataObject('clarified') = 'yes'"), flow("other", "g", "b"),
        flow("f1", "a", "e"), flow("f2", "b", "e"),
    ]))
    assert run_model([UploadedFile("m.bpmn", content)], settings, {"clarified": "yes"}, {}, {}).data["r"] == 1
    assert run_model([UploadedFile("m.bpmn", content)], settings, {"clarified": "no"}, {}, {}).data["r"] == 2
    unset = run_model([UploadedFile("m.bpmn", content)], settings, {}, {}, {})
    assert unset.status == "completed" and unset.data["r"] == 2, "an unset data object is empty, as in XPath"


def test_lower_case_truth_values_are_booleans(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" />',
        script("a", "r = 1"), script("b", "r = 2"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), flow("no", "g", "a", "false()"), flow("yes", "g", "b", "true"),
        flow("f1", "a", "e"), flow("f2", "b", "e"),
    ]))
    assert run_model([UploadedFile("m.bpmn", content)], settings, {}, {}, {}).data["r"] == 2
    _, report = report_of(settings, ("m.bpmn", content))
    translated = {e.element_id: e.details for e in report.elements if e.status == "translated"}
    assert translated["yes"] == ["condition: boolean literal `true` → Python `True`"]


def test_untranslatable_expressions_and_cron_timers_are_reported_with_their_line(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" default="other" />',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        "<bpmn:timeCycle>0 0 9 ? * MON-FRI</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
        '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), flow("bean", "g", "wait", "${invoiceService.isLate(invoice)}"), flow("other", "g", "e"),
        flow("f1", "wait", "e"),
    ]), "camunda7")
    loaded, report = report_of(settings, ("m.bpmn", content))
    assert loaded is None
    errors = {p.element_id: p for p in report.problems if p.severity == "error"}
    assert "method call" in errors["bean"].message and errors["bean"].line == 9
    assert "cron expression that does not fire at a fixed period" in errors["wait"].message
    assert "'MON-FRI'" in errors["wait"].message and "R/PT5M" in errors["wait"].message
    assert elements(report)["bean"].status == elements(report)["wait"].status == "unsupported"


def test_a_cron_cycle_at_a_fixed_period_becomes_an_iso_repetition(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0/15 * * * ?</bpmn:timeCycle>'
        "</bpmn:timerEventDefinition></bpmn:startEvent>",
        script("t", "done = True"), '<bpmn:endEvent id="e" />', flow("f0", "s", "t"), flow("f1", "t", "e"),
    ]), "camunda7")
    loaded, report = report_of(settings, ("m.bpmn", content))
    assert loaded is not None, [str(p) for p in report.problems]
    detail = next(d for d in elements(report)["s"].details if "cron" in d)
    assert detail == "timer timeCycle: Quartz cron (in UTC) `0 0/15 * * * ?` → Python `cron_cycle('0 0/15 * * * ?')`", \
        "worked out when the timer is set, not frozen at deployment"


def test_a_cron_is_only_a_cycle(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>0 0 9 * * ?</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
        '<bpmn:endEvent id="e" />', flow("f0", "s", "wait"), flow("f1", "wait", "e"),
    ]), "camunda7")
    loaded, report = report_of(settings, ("m.bpmn", content))
    assert loaded is None
    assert any("only a timeCycle can hold" in p.message for p in report.problems)


def test_feel_decision_tables_from_camunda_run(settings: Settings) -> None:
    table = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="fee" name="Fee">
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="i1"><inputExpression id="e1" typeRef="number"><text>area</text></inputExpression></input>
      <input id="i2"><inputExpression id="e2" typeRef="string"><text>kind</text></inputExpression></input>
      <output id="o1" name="fee" typeRef="number" />
      <rule id="r1"><inputEntry id="a1"><text>[100..1000]</text></inputEntry>
        <inputEntry id="b1"><text>"shop","office"</text></inputEntry>
        <outputEntry id="c1"><text>300</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="a2"><text>&lt; 100</text></inputEntry>
        <inputEntry id="b2"><text>not("factory")</text></inputEntry>
        <outputEntry id="c2"><text>100</text></outputEntry></rule>
      <rule id="r3"><inputEntry id="a3"><text>-</text></inputEntry>
        <inputEntry id="b3"><text>-</text></inputEntry><outputEntry id="c3"><text>900</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""
    process = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:businessRuleTask id="fee_task" camunda:decisionRef="fee" />',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "fee_task"), flow("f1", "fee_task", "e"),
    ]), "camunda7")
    files = [UploadedFile("m.bpmn", process), UploadedFile("fee.dmn", table)]
    for data, fee in (({"area": 200, "kind": "shop"}, 300), ({"area": 50, "kind": "home"}, 100),
                      ({"area": 50, "kind": "factory"}, 900), ({"area": 2000, "kind": "shop"}, 900)):
        run = run_model(files, settings, data, {}, {})
        assert run.status == "completed", run.error
        assert run.data["fee"] == fee, data
