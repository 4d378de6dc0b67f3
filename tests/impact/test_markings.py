"""Panjereh's presence markings go through the importer untouched, named in the compatibility report."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.bpmn.presence import PANJEREH_NS, journey_after
from engine.core.report import Report
from engine.core.visits import Presence, VisitReason
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model

NS = f'xmlns:panjereh="{PANJEREH_NS}"'


def _check(settings: Settings, task: str) -> tuple[Report, bytes | None]:
    body = f'<bpmn:startEvent id="s"/>\n{task}\n<bpmn:endEvent id="e"/>\n' + flow("f1", "s", "t") + flow("f2", "t", "e")
    loaded, report = check([UploadedFile("p.bpmn", model(body).replace(b"<bpmn:process", f"<bpmn:process {NS}"
                                                                        .encode(), 1))], settings)
    return report, loaded.translated["p.bpmn"] if loaded else None


def test_markings_are_kept_and_reported(settings: Settings) -> None:
    report, translated = _check(settings, '<bpmn:userTask id="t" panjereh:presence="required" '
                                'panjereh:presenceReason="biometrics" panjereh:office="police" '
                                'panjereh:replaces="visit:old document:photo"/>')
    assert report.deployable, report.problems
    [entry] = [e for e in report.elements if e.element_id == "t"]
    assert entry.status == "executes"
    assert entry.details == ["visits ledger: the citizen's presence is required (biometrics at office 'police'); "
                             "replaces visit 'old', document 'photo'"]
    assert translated is not None
    after, problems = journey_after([etree.fromstring(translated)])
    assert not problems
    [mark] = after.presences
    assert (mark.element_id, mark.presence, mark.reason, mark.office) == ("t", Presence.REQUIRED,
                                                                         VisitReason.BIOMETRICS, "police")
    assert [(r.visits, r.documents) for r in after.replacements] == [(("old",), ("photo",))]


@pytest.mark.parametrize("task, words", [
    ('<bpmn:userTask id="t" panjereh:presence="always"/>', "panjereh:presence 'always' is not one of required"),
    ('<bpmn:userTask id="t" panjereh:presence="required"/>', "panjereh:presenceReason is missing"),
    ('<bpmn:userTask id="t" panjereh:presence="required" panjereh:presenceReason="boredom"/>',
     "panjereh:presenceReason 'boredom' is not one of identity"),
    ('<bpmn:userTask id="t" panjereh:presenceReason="signature"/>', 'add panjereh:presence="required"'),
    ('<bpmn:userTask id="t" panjereh:presence="none" panjereh:presenceReason="signature"/>',
     'panjereh:presence="none" takes no reason'),
    ('<bpmn:serviceTask id="t" panjereh:replaces="certificate"/>',
     "'certificate' is not visit:<id> or document:<id>"),
    ('<bpmn:serviceTask id="t" panjereh:replaces=" "/>', "panjereh:replaces is empty"),
    ('<bpmn:userTask id="t" panjereh:presense="required"/>', "unknown Panjereh attribute(s) panjereh:presense"),
])
def test_a_marking_the_ledger_cannot_count_is_refused_with_its_line(settings: Settings, task: str,
                                                                    words: str) -> None:
    report, _ = _check(settings, task)
    assert not report.deployable
    [entry] = [e for e in report.elements if e.element_id == "t"]
    assert entry.status == "unsupported" and any(words in d for d in entry.details), entry.details
    [problem] = [p for p in report.problems if words in p.message]
    assert (problem.element_id, problem.line) == ("t", 5)


def test_markings_go_on_activities_only(settings: Settings) -> None:
    body = ('<bpmn:startEvent id="s"/>\n<bpmn:exclusiveGateway id="g" panjereh:presence="required" '
            'panjereh:presenceReason="signature"/>\n<bpmn:endEvent id="e"/>' + flow("f1", "s", "g")
            + flow("f2", "g", "e"))
    _, report = check([UploadedFile("p.bpmn", model(body).replace(b"<bpmn:process", f"<bpmn:process {NS}".encode(),
                                                                    1))], settings)
    assert any("go on tasks and subprocesses, not on <exclusiveGateway>" in p.message and p.element_id == "g"
               for p in report.problems), report.problems
