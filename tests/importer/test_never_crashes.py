"""Whatever an upload holds, the importer answers with a report, never an unhandled exception."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model, script

EXPORTS = Path(__file__).resolve().parents[2] / "designer_exports"


def _mutations(content: bytes, rng: random.Random, count: int) -> list[bytes]:
    """`count` damaged copies: elements dropped, attributes removed or changed, text replaced."""
    found = []
    for _ in range(count):
        root = etree.fromstring(content)
        nodes = [n for n in root.iter() if isinstance(n.tag, str) and n is not root]
        for node in rng.sample(nodes, min(len(nodes), rng.randint(1, 4))):
            action = rng.choice(("drop", "attribute", "text", "id"))
            parent = node.getparent()
            if action == "drop" and parent is not None:
                parent.remove(node)
            elif action == "attribute" and node.attrib:
                del node.attrib[rng.choice(list(node.attrib))]
            elif action == "text":
                node.text = rng.choice(("${", "=(", "PT", "R/", "'", "bpmn:getDataObject(", "__import__('os')", ""))
            elif action == "id" and node.get("id"):
                node.set("id", rng.choice(("", "x y", nodes[0].get("id") or "dup")))
        found.append(etree.tostring(root))
    return found


def test_damaged_exports_always_get_a_report(settings: Settings) -> None:
    rng = random.Random(20261129)
    models = sorted(EXPORTS.glob("*/*.bpmn"))
    assert len(models) >= 30
    checked = 0
    for path in models:
        for damaged in _mutations(path.read_bytes(), rng, 6):
            loaded, report = check([UploadedFile(path.name, damaged)], settings)
            assert loaded is not None or not report.deployable
            assert all(p.message for p in report.problems)
            checked += 1
    assert checked == 6 * len(models)


# --- hostile text at every place a model holds code, a pattern or a form -------------------

# Each defeats a parser a different way: the Python parser's own stack (MemoryError), the
# recursion limit, integer and float conversion limits, length limits, an unclosed string.
_PYTHON = ["-" * 30_000 + "1", "not " * 20_000 + "x", "(" * 5_000 + "1" + ")" * 5_000, "[" * 3_000 + "]" * 3_000,
           "lambda: " * 5_000 + "1", "1" + "0" * 5_000, "a" + ".b" * 20_000, "x = '", "x" * 200_000]
_FEEL = ["=" + "-" * 30_000 + "1", "=" + "(" * 5_000 + "1" + ")" * 5_000, "=" + "not(" * 3_000 + "x" + ")" * 3_000,
         "=" + "[" * 5_000 + "]" * 5_000, "=1e999999", "=" + "1" * 5_000, "=" + "1+" * 20_000 + "1"]
_JUEL = ["${" + "-" * 30_000 + "1}", "${" + "(" * 5_000 + "1" + ")" * 5_000 + "}", "${" + "!" * 20_000 + "x}",
         "${1e999999}", "${" + "1" * 5_000 + "}", "x${a}" * 20_000]
_PATTERNS = ["(" * 5_000 + ")" * 5_000, "a{99999999999999999999}", "(a)\\1", "(?=a)", "[0-", "(a{1000}){1000}"]
_JSON = ['{"a":' * 5_000 + "1" + "}" * 5_000, "[" * 100_000,
         '{"id": "F1", "components": ' + "[" * 3_000 + "]" * 3_000 + "}"]


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _process(body: str, dialect: str = "bpmn") -> list[UploadedFile]:
    return [UploadedFile("hostile.bpmn", model('<bpmn:startEvent id="s"/>' + body + '<bpmn:endEvent id="e"/>'
                                               + flow("f0", "s", "t") + flow("f1", "t", "e"), dialect))]


def _gateway(condition: str, language: str = "") -> list[UploadedFile]:
    lang = f' language="{language}"' if language else ""
    return [UploadedFile("hostile.bpmn", model(
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f2"/><bpmn:endEvent id="e1"/>'
        '<bpmn:endEvent id="e2"/>' + flow("f0", "s", "g")
        + f'<bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="e1"><bpmn:conditionExpression{lang} '
        f'xsi:type="bpmn:tFormalExpression">{_escaped(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>'
        + flow("f2", "g", "e2")))]


def _timer(text: str, kind: str) -> list[UploadedFile]:
    return _process(f'<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition><bpmn:{kind}>{_escaped(text)}'
                    f"</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")


def _extension(task: str, extension: str, dialect: str) -> list[UploadedFile]:
    return _process(f'<bpmn:{task} id="t"><bpmn:extensionElements>{extension}</bpmn:extensionElements></bpmn:{task}>',
                    dialect)


def _decision(cell: str, where: str) -> list[UploadedFile]:
    cells = {"input": "age", "entry": "&gt;= 18", "output": "true", where: _escaped(cell)}
    dmn = ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
           'id="d" name="D" namespace="x">\n<decision id="fee" name="Fee">\n<decisionTable id="table">\n'
           f'<input id="i"><inputExpression id="ie"><text>{cells["input"]}</text></inputExpression></input>\n'
           '<output id="o" name="eligible"/>\n'
           f'<rule id="r"><inputEntry id="en"><text>{cells["entry"]}</text></inputEntry>\n'
           f'<outputEntry id="out"><text>{cells["output"]}</text></outputEntry></rule>\n'
           "</decisionTable>\n</decision>\n</definitions>\n")
    task = '<bpmn:businessRuleTask id="t" camunda:decisionRef="fee"/>'
    return [*_process(task, "camunda7"), UploadedFile("fee.dmn", dmn.encode())]


def _zeebe_form(document: str) -> list[UploadedFile]:
    files = _extension("userTask", '<zeebe:formDefinition formId="F1"/>', "camunda8")
    return [*files, UploadedFile("task.form", document.encode())]


def _formjs_pattern(pattern: str) -> list[UploadedFile]:
    document = json.dumps({"id": "F1", "components": [{"type": "textfield", "key": "a", "label": "A",
                                                         "validate": {"pattern": pattern}}]})
    return _zeebe_form(document)


def _camunda_pattern(pattern: str) -> list[UploadedFile]:
    return _extension("userTask", '<camunda:formData><camunda:formField id="a" type="string"><camunda:validation>'
                      f'<camunda:constraint name="pattern" config="{_escaped(pattern)}"/></camunda:validation>'
                      "</camunda:formField></camunda:formData>", "camunda7")


def _spiff_schema(document: str) -> list[UploadedFile]:
    files = _extension("userTask", '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                       'value="form.json"/></spiffworkflow:properties>', "spiffarena")
    return [*files, UploadedFile("form.json", document.encode())]


def _spiff_pattern(pattern: str) -> list[UploadedFile]:
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": pattern}}}
    return _spiff_schema(json.dumps(schema))


SITES: dict[str, Callable[[str], list[UploadedFile]]] = {
    "script task": lambda text: _process(script("t", _escaped(text))),
    "condition": lambda text: _gateway(text),
    "condition in FEEL": lambda text: _gateway(text if text.startswith("=") else "=" + text, "feel"),
    "condition in JUEL": lambda text: _gateway(text, "juel"),
    "condition in XPath": lambda text: _gateway(f"bpmn:getDataObject('x') and {text}", "http://www.w3.org/1999/XPath"),
    "event condition": lambda text: _process(
        '<bpmn:intermediateCatchEvent id="t"><bpmn:conditionalEventDefinition><bpmn:condition '
        f'xsi:type="bpmn:tFormalExpression">{_escaped(text)}</bpmn:condition></bpmn:conditionalEventDefinition>'
        "</bpmn:intermediateCatchEvent>"),
    "timeDate": lambda text: _timer(text, "timeDate"),
    "timeDuration": lambda text: _timer(text, "timeDuration"),
    "timeCycle": lambda text: _timer(text, "timeCycle"),
    "loopCardinality": lambda text: _process(
        '<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>'
        f"{_escaped(text)}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:task>"),
    "completionCondition": lambda text: _process(
        '<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality>'
        f"<bpmn:completionCondition>{_escaped(text)}</bpmn:completionCondition>"
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>"),
    "preScript": lambda text: _extension("task", f"<spiffworkflow:preScript>{_escaped(text)}</spiffworkflow:preScript>",
                                         "spiffarena"),
    "postScript": lambda text: _extension("task", f"<spiffworkflow:postScript>{_escaped(text)}"
                                          "</spiffworkflow:postScript>", "spiffarena"),
    "camunda input parameter": lambda text: _extension(
        "task", f'<camunda:inputOutput><camunda:inputParameter name="v">{_escaped(text)}</camunda:inputParameter>'
        "</camunda:inputOutput>", "camunda7"),
    "camunda parameter script": lambda text: _extension(
        "task", '<camunda:inputOutput><camunda:outputParameter name="v"><camunda:script scriptFormat="python">'
        f"{_escaped(text)}</camunda:script></camunda:outputParameter></camunda:inputOutput>", "camunda7"),
    "zeebe mapping": lambda text: _extension(
        "task", f'<zeebe:ioMapping><zeebe:output source="{_escaped(text if text.startswith("=") else "=" + text)}" '
        'target="v"/></zeebe:ioMapping>', "camunda8"),
    "DMN input expression": lambda text: _decision(text, "input"),
    "DMN input entry": lambda text: _decision(text, "entry"),
    "DMN output entry": lambda text: _decision(text, "output"),
}
PATTERN_SITES: dict[str, Callable[[str], list[UploadedFile]]] = {
    "camunda form pattern": _camunda_pattern, "form-js pattern": _formjs_pattern,
    "spiff schema pattern": _spiff_pattern,
}
JSON_SITES: dict[str, Callable[[str], list[UploadedFile]]] = {
    "form-js file": _zeebe_form, "spiff schema": _spiff_schema,
}


def _cases() -> list[tuple[str, str, list[UploadedFile]]]:
    cases = []
    for site, build in SITES.items():
        texts = _JUEL if "JUEL" in site else _FEEL if "FEEL" in site or "zeebe" in site else _PYTHON
        if site == "camunda input parameter":
            texts = _JUEL
        cases += [(site, text, build(text)) for text in texts]
    cases += [(site, text, build(text)) for site, build in PATTERN_SITES.items() for text in _PATTERNS]
    cases += [(site, text, build(text)) for site, build in JSON_SITES.items() for text in _JSON]
    return cases


def test_hostile_text_anywhere_gets_a_report_naming_the_element(settings: Settings) -> None:
    """Whatever text a site holds, deploy answers with a report: never an exception (a 500)."""
    cases = _cases()
    assert len(cases) > 120
    for site, text, files in cases:
        try:
            _, report = check(files, settings)
        except Exception as err:  # the point is that nothing escapes
            pytest.fail(f"{site} with {text[:40]!r}… raised {type(err).__name__}: {str(err)[:200]}")
        for problem in report.problems:
            assert problem.message and len(problem.message) < 2_000, (site, problem.message[:200])
        errors = [p for p in report.problems if p.severity == "error"]
        # Patterns RE2 reads as literals ("a{999...}") are fine; everything else here is refused.
        if not errors:
            assert site in PATTERN_SITES, (site, text[:40])
            continue
        assert all(e.element_id and e.line for e in errors), (site, text[:40], [str(e)[:200] for e in errors])


def test_a_process_without_an_id_is_refused_not_a_crash(settings: Settings) -> None:
    # SpiffWorkflow's parser joined the process ids to word its own error: TypeError on None.
    body = model('<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>' + flow("f", "s", "e")).replace(
        b'<bpmn:process id="p" ', b"<bpmn:process ")
    loaded, report = check([UploadedFile("anonymous.bpmn", body)], settings)
    assert loaded is None
    assert [(p.message, p.line) for p in report.problems if p.severity == "error"] == [
        ("a process needs an id: it is how the process is started and called", 3)]
