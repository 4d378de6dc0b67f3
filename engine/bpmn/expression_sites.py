"""Every place a model holds an expression, translated in place to sandbox Python.

Conditions on flows and conditional events, timer definitions, and the loop expressions
of multi-instance and standard loops. What cannot be translated stays as written and is
reported on its element with the expression's own line.
"""

from __future__ import annotations

from lxml import etree

from engine.bpmn.expression_translation import ExpressionProblem, Translation, translate, translate_timer
from engine.bpmn.import_context import BPMN, ImportContext

_TIMERS = ("timeDate", "timeDuration", "timeCycle")
# What some modelers write where no expression was given (itp-commerce's Visio modeler
# writes `_undefined`): the same as an empty expression.
_PLACEHOLDERS = {"_undefined"}
_LOOP = ("loopCardinality", "completionCondition", "loopCondition")


def _rewrite(ctx: ImportContext, node: etree._Element, translation: Translation, what: str) -> None:
    if not translation.changed:
        return
    node.text = translation.python
    node.attrib.pop("language", None)
    ctx.mark(node, "translated", f"{what}: {translation.describe()}")


def _site(ctx: ImportContext, node: etree._Element, what: str, timer: str | None = None) -> None:
    text = node.text or ""
    if text.strip() in _PLACEHOLDERS:
        node.text = ""
        ctx.mark(node, "needs attention", f"{what} is `{text.strip()}`, the modeler's mark for none given: "
                 "taken as empty")
        return
    if not text.strip():
        return
    try:
        translation = (translate_timer(text, node.get("language"), timer) if timer
                       else translate(text, node.get("language")))
    except ExpressionProblem as err:
        ctx.mark(node, "unsupported", f"{what} (line {node.sourceline}): {err}")
        return
    _rewrite(ctx, node, translation, what)


def apply(ctx: ImportContext) -> None:
    """Translate every expression in `ctx`'s tree."""
    for flow in ctx.root.iter(f"{BPMN}sequenceFlow"):
        condition = flow.find(f"{BPMN}conditionExpression")
        if condition is not None:
            _site(ctx, condition, "condition")
    for condition in ctx.root.iter(f"{BPMN}condition"):
        _site(ctx, condition, "event condition")
    for name in _TIMERS:
        for node in ctx.root.iter(f"{BPMN}{name}"):
            _site(ctx, node, f"timer {name}", timer=name)
    for name in _LOOP:
        for node in ctx.root.iter(f"{BPMN}{name}"):
            _site(ctx, node, name)
