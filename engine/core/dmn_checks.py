"""Deploy-time checks of DMN decisions against what SpiffWorkflow 3.2 evaluates.

SpiffWorkflow's DMN engine knows two hit policies by name: UNIQUE (it returns the first
matching rule and does not check that only one matched) and COLLECT (a list per output,
without aggregation). Any other policy silently behaves as "first match": right for
FIRST, wrong for PRIORITY, RULE ORDER, OUTPUT ORDER and ANY, whose results or checks
differ. A COLLECT with an aggregation (SUM, MIN, MAX, COUNT) would return a list where the
model expects a number. Those are refused here with the decision id and line, as is what
the engine cannot evaluate at all (a decision that is not a table), and two decisions
with the same id (the second would silently replace the first).

Every cell is checked against the sandbox the way SpiffWorkflow will evaluate it, so text
that cannot run is reported at deploy with its rule and line instead of failing a case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from engine.core.report import Report, shown
from engine.core.sandbox import SandboxViolation, check_source

SUPPORTED_HIT_POLICIES = {"UNIQUE", "FIRST", "COLLECT"}
_ADVICE = {
    "ANY": "matching rules are not checked to agree; use UNIQUE or FIRST",
    "PRIORITY": "output priorities are not applied; order the rules and use FIRST",
    "RULE ORDER": "only the first matching rule would be returned; use COLLECT for all matches in rule order",
    "OUTPUT ORDER": "outputs are not sorted by priority; use COLLECT and sort in a script task",
}


# SpiffWorkflow's DMN engine replaces each `?` outside quotes with the input's value (a
# regular expression whose work grows with the square of the cell's length, at every
# evaluation); a rule cell is a short test, so longer text is refused.
MAX_CELL_LENGTH = 2_000
_INPUT = "dmninputexpr"
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _children(node: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in node if _local(child) == name]


def _table_problem(table: etree._Element) -> str | None:
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    if policy not in SUPPORTED_HIT_POLICIES:
        advice = _ADVICE.get(policy, f"supported: {', '.join(sorted(SUPPORTED_HIT_POLICIES))}")
        return f"hit policy {policy} is not supported: {advice}"
    aggregation = (table.get("aggregation") or "").strip().upper()
    if aggregation:
        return (f"COLLECT with aggregation {aggregation} is not supported (the engine returns the list of "
                "matches); use plain COLLECT and aggregate in a script task")
    return None


def _python_problem(text: str) -> str | None:
    try:
        check_source(text, "eval")
    except SyntaxError as err:
        return f"not valid Python: {err.msg}"
    except SandboxViolation as err:
        return str(err)
    return None


def _cell_problem(text: str, kind: str) -> str | None:
    """Why SpiffWorkflow could not evaluate one cell, or None."""
    if len(text) > MAX_CELL_LENGTH:
        return f"is {len(text):,} characters long, over the limit of {MAX_CELL_LENGTH:,}"
    if kind != "inputEntry":
        return _python_problem(text)
    if _QUESTION_MARK.search(text):
        return _python_problem(_QUESTION_MARK.sub(_INPUT, text))
    try:
        check_source(text, "eval")
    except SyntaxError:
        # Like "> 5": the engine appends the test to the input expression.
        return _python_problem(f"{_INPUT} {text}")
    except SandboxViolation as err:
        return str(err)
    return None


def _check_cells(decision: etree._Element, file: str, report: Report) -> None:
    decision_id = decision.get("id", "")
    for node in decision.iter():
        kind = _local(node)
        if kind not in ("inputExpression", "inputEntry", "outputEntry"):
            continue
        cell = next((child for child in node if _local(child) == "text"), None)
        text = (cell.text or "").strip() if cell is not None else ""
        if not text or (kind == "inputEntry" and text == "-"):
            continue
        problem = _cell_problem(text, kind)
        if problem:
            report.error(f"decision '{decision_id}': {kind} `{shown(text)}` {problem}", file, decision_id,
                         (cell if cell is not None else node).sourceline)


def check_decisions(root: etree._Element, file: str, report: Report) -> None:
    """Add to `report` each decision of one DMN document the engine would not evaluate faithfully."""
    for decision in root.iter():
        if _local(decision) != "decision":
            continue
        decision_id = decision.get("id", "")
        tables = _children(decision, "decisionTable")
        if not tables:
            report.error(f"decision '{decision_id}' is not a decision table; only decision tables can be "
                         "evaluated", file, decision_id, decision.sourceline)
            continue
        problem = _table_problem(tables[0])
        if problem:
            report.error(f"decision '{decision_id}': {problem}", file, decision_id, tables[0].sourceline)
        _check_cells(decision, file, report)


def check_decision_ids(documents: Iterable[tuple[str, etree._Element]], report: Report) -> None:
    """Report decision ids defined twice across `documents` (name, DMN root)."""
    seen: dict[str, str] = {}
    for file, root in documents:
        for decision in root.iter():
            if _local(decision) != "decision" or not decision.get("id"):
                continue
            decision_id = decision.get("id", "")
            if decision_id in seen:
                report.error(f"decision id '{decision_id}' is defined in both {seen[decision_id]} and {file}",
                             file, decision_id, decision.sourceline)
            seen.setdefault(decision_id, file)
