"""Translating FEEL and JUEL is bounded: one expression, and all of a deployment's together.

A condition of 800,000 FEEL terms took 81 s and 600 MB to validate; the translator reads
about 30 us per character, so its input is what bounds its work. Past either limit the
element is reported, naming the limit, without the text being translated.
"""

from __future__ import annotations

from engine.bpmn.expression_syntax import MAX_EXPRESSION_CHARS, MAX_TRANSLATED_CHARS
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model


def _gateway_model(conditions: list[str]) -> bytes:
    parts = ['<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" />', flow("f0", "s", "g")]
    for index, condition in enumerate(conditions):
        parts += [f'<bpmn:endEvent id="e{index}" />', flow(f"c{index}", "g", f"e{index}", condition)]
    return model("\n".join(parts), "camunda8")


def _problems(document: bytes) -> list[str]:
    loaded, report = check([UploadedFile("long.bpmn", document)], Settings())
    assert loaded is None
    return [str(problem) for problem in report.problems if problem.severity == "error"]


def test_one_overlong_expression_is_refused_naming_its_flow() -> None:
    long_condition = "=" + " and ".join(["a"] * (MAX_EXPRESSION_CHARS // 5 + 10))
    problems = _problems(_gateway_model(["=a", long_condition]))
    assert any("[c1]" in p and f"over the limit of {MAX_EXPRESSION_CHARS:,}" in p for p in problems), problems


def test_many_long_expressions_are_refused_past_the_deployments_budget() -> None:
    each = "=" + " and ".join(["a"] * ((MAX_EXPRESSION_CHARS - 10) // 6))
    count = MAX_TRANSLATED_CHARS // len(each) + 3
    problems = _problems(_gateway_model([each] * count))
    together = [p for p in problems if "characters together, over the limit" in p]
    assert 1 <= len(together) <= 4, problems[:5]
    # The expressions within the budget were translated and accepted.
    assert not any("[c0]" in p for p in problems)
