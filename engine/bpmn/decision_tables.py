"""Decision tables written in FEEL (DMN's own language, which Camunda uses) carried over to Python.

SpiffWorkflow evaluates a rule's input entry as Python against the column's input, with
`?` standing for the input value, and its output entries and input expressions as
Python. A Camunda table holds FEEL unary tests (`"gold"`, `< 18`, `[100..1000]`,
`"a","b"`, `not("x")`, `-`) and FEEL expressions. Each entry that is not already plain
Python of the same meaning is translated through the FEEL translator; what it cannot
translate is reported with the table, the rule and the line.

Tables written for SpiffWorkflow (Python entries) are left as they are: an entry is
taken as Python when it parses as Python and holds no FEEL-only spelling.
"""

from __future__ import annotations

import ast
import re

from lxml import etree

from engine.bpmn.expression_syntax import Untranslatable
from engine.bpmn.feel import feel_to_python
from engine.core.report import Report, shown
from engine.core.sandbox import SandboxViolation
from engine.core.sandbox_ast import parse

_PLACEHOLDER = "dmninputexpr"
_FEEL_ONLY = re.compile(r"\.\.|\bnull\b|\btrue\b|\bfalse\b|^not\s*\(|^\s*[<>]=?|^\s*!=|^\s*=")


def _python_already(text: str) -> bool:
    if _FEEL_ONLY.search(text):
        return False
    try:
        tree = parse(text.strip(), "eval")
    except (SyntaxError, SandboxViolation):
        return False
    return not isinstance(tree.body, ast.Tuple)


def _negated(text: str) -> str | None:
    stripped = text.strip()
    if stripped.startswith("not(") and stripped.endswith(")"):
        return stripped[4:-1]
    return None


def unary_test(text: str) -> str:
    """Python (with `?` for the input) for one FEEL unary test.

    Raises:
        Untranslatable: outside the supported FEEL subset.
    """
    inner = _negated(text)
    if inner is not None:
        return f"not ({unary_test(inner)})"
    try:
        python = feel_to_python(f"{_PLACEHOLDER} in ({text})")
    except Untranslatable:
        python = f"{_PLACEHOLDER} == ({feel_to_python(text)})"
    return re.sub(rf"\b{_PLACEHOLDER}\b", "?", python)


def _text(entry: etree._Element) -> etree._Element | None:
    return next((c for c in entry if isinstance(c.tag, str) and etree.QName(c).localname == "text"), None)


def _translate(node: etree._Element, kind: str, table: str, file: str, report: Report) -> None:
    text = (node.text or "").strip()
    if not text or text == "-" or _python_already(text):
        return
    try:
        node.text = unary_test(text) if kind == "input entry" else feel_to_python(text)
    except Untranslatable as err:
        report.error(f"decision '{table}': {kind} `{shown(text)}` is FEEL this engine cannot translate: {err}",
                     file, table, node.sourceline)


def translate_decisions(root: etree._Element, file: str, report: Report) -> int:
    """Rewrite the FEEL entries of every decision table in `root`; how many were translated."""
    changed = 0
    for decision in root.iter():
        if not isinstance(decision.tag, str) or etree.QName(decision).localname != "decision":
            continue
        table = decision.get("id", "")
        for node in decision.iter():
            if not isinstance(node.tag, str):
                continue
            name = etree.QName(node).localname
            kind = {"inputEntry": "input entry", "outputEntry": "output entry",
                    "inputExpression": "input expression"}.get(name)
            text = _text(node) if kind else None
            if kind is None or text is None:
                continue
            before = text.text
            _translate(text, kind, table, file, report)
            changed += before != text.text
    return changed
