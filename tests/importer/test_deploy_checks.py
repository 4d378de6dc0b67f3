"""Code the engine runs later is checked at deploy: decision cells and pre/post-scripts."""

from __future__ import annotations

import pytest

from engine.core.dmn_checks import MAX_CELL_LENGTH
from engine.core.report import Report
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model
from tests.importer.test_foreign_elements import DMN


def _decide(settings: Settings, entry: str = "&gt;= 18", output: str = "10") -> Report:
    dmn = DMN.format(decision="", cell=output).replace("<text>&gt;= 18</text>", f"<text>{entry}</text>")
    bpmn = model('<bpmn:startEvent id="s"/><bpmn:businessRuleTask id="t" camunda:decisionRef="fee"/>'
                 '<bpmn:endEvent id="e"/>' + flow("f0", "s", "t") + flow("f1", "t", "e"), "camunda7")
    return check([UploadedFile("p.bpmn", bpmn), UploadedFile("d.dmn", dmn.encode())], settings)[1]


@pytest.mark.parametrize("entry", ["&gt;= 18", '"a","b"', "[1..10]", 'not("x")', "-", "", "18", "age &gt; 5"])
def test_cells_the_engine_evaluates_deploy(settings: Settings, entry: str) -> None:
    report = _decide(settings, entry=entry)
    assert report.deployable, [str(p) for p in report.problems]


@pytest.mark.parametrize("entry, output, words, line", [
    ("__import__('os').system('id')", "10", "names starting with an underscore", 6),
    ("&gt;= 18", "fee.__class__", "names starting with an underscore", 7),
    ("&gt;= 18", "1 + " * (MAX_CELL_LENGTH // 4 + 1) + "1", f"over the limit of {MAX_CELL_LENGTH:,}", 7),
    ("-" * 9_000 + "1", "10", "nested too deeply", 6),
    ("&gt;= 18", "-" * 9_000 + "1", "nested too deeply", 7),
])
def test_a_cell_that_cannot_run_is_refused_with_its_decision_and_line(settings: Settings, entry: str, output: str,
                                                                      words: str, line: int) -> None:
    report = _decide(settings, entry=entry, output=output)
    refusals = [p for p in report.problems if p.severity == "error" and words in p.message]
    assert refusals, [str(p) for p in report.problems]
    assert (refusals[0].file, refusals[0].element_id, refusals[0].line) == ("d.dmn", "fee", line)
    assert len(refusals[0].message) < 400


@pytest.mark.parametrize("tag", ["preScript", "postScript"])
def test_pre_and_post_scripts_are_checked_like_script_tasks(settings: Settings, tag: str) -> None:
    def report(code: str) -> Report:
        body = (f'<bpmn:startEvent id="s"/><bpmn:task id="t"><bpmn:extensionElements><spiffworkflow:{tag}>{code}'
                f'</spiffworkflow:{tag}></bpmn:extensionElements></bpmn:task><bpmn:endEvent id="e"/>'
                + flow("f0", "s", "t") + flow("f1", "t", "e"))
        return check([UploadedFile("p.bpmn", model(body, "spiffarena"))], settings)[1]

    assert report("total = 1 + 2").deployable
    for code, words in [("import os", "import is not allowed"), ("x = (", "not valid Python"),
                        ("x = " + "-" * 30_000 + "1", "nested too deeply")]:
        refusals = [p for p in report(code).problems if p.severity == "error" and words in p.message]
        assert refusals and refusals[0].element_id == "t" and refusals[0].line == 4, code[:20]
