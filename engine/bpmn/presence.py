"""Panjereh's own markings on a model: where the citizen must still be present, and what a step replaces.

Attributes in the Panjereh namespace (`xmlns:panjereh="urn:panjereh:bpmn:1.0"`) on an activity:

- `panjereh:presence`: `required`, `optional` or `none` — whether the citizen (or the thing they
  own: premises, a vehicle) must be there in person for this step;
- `panjereh:presenceReason`: why, one of `engine.core.visits.VisitReason` (with `required` and
  `optional`);
- `panjereh:office`: the office of the service card's `[offices]` where it happens (not for an
  inspection on site);
- `panjereh:visit`: the card's visit this step still is (an inspection kept, booked online);
- `panjereh:replaces`: what the step stands in for, space-separated `visit:<id>` and
  `document:<id>` of the card (a connector fetching a certificate the citizen used to bring).

The BPMN schema lets any element carry attributes of another namespace, so the importer keeps
them as they are in what a deployment stores; this step only checks their words, says in the
compatibility report what each marking counts for, and reads them back for the visits ledger.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from engine.bpmn.import_context import ACTIVITIES, BPMN, ImportContext, local
from engine.core.visits import JourneyAfter, Presence, PresenceMark, Replacement, VisitReason

PANJEREH_NS = "urn:panjereh:bpmn:1.0"
PANJEREH = f"{{{PANJEREH_NS}}}"
ATTRIBUTES = ("presence", "presenceReason", "office", "visit", "replaces")
_KINDS = ("visit", "document")


class MarkingError(ValueError):
    """A Panjereh attribute holds something the ledger cannot count."""


def _marked(root: etree._Element) -> Iterable[etree._Element]:
    for node in root.iter():
        if isinstance(node.tag, str) and any(name.startswith(PANJEREH) for name in node.attrib):
            yield node


def _presence(node: etree._Element) -> PresenceMark | None:
    presence_text = node.get(f"{PANJEREH}presence")
    reason_text = node.get(f"{PANJEREH}presenceReason")
    office, visit = node.get(f"{PANJEREH}office"), node.get(f"{PANJEREH}visit")
    if presence_text is None:
        if reason_text is not None or office is not None or visit is not None:
            raise MarkingError("panjereh:presenceReason, panjereh:office and panjereh:visit describe a presence: "
                               "add panjereh:presence=\"required\" (or \"optional\")")
        return None
    if presence_text not in set(Presence):
        raise MarkingError(f"panjereh:presence {presence_text!r} is not one of {', '.join(Presence)}")
    presence = Presence(presence_text)
    if presence is Presence.NONE:
        if reason_text is not None or office is not None or visit is not None:
            raise MarkingError("panjereh:presence=\"none\" takes no reason, office or visit")
        return PresenceMark(node.get("id", ""), presence, None)
    if reason_text not in set(VisitReason):
        shown = "is missing" if reason_text is None else f"{reason_text!r} is not one of {', '.join(VisitReason)}"
        raise MarkingError(f"panjereh:presenceReason {shown}")
    return PresenceMark(node.get("id", ""), presence, VisitReason(reason_text), office or None, visit or None)


def _replacement(node: etree._Element) -> Replacement | None:
    text = node.get(f"{PANJEREH}replaces")
    if text is None:
        return None
    named: dict[str, list[str]] = {kind: [] for kind in _KINDS}
    for token in text.split():
        kind, _, name = token.partition(":")
        if kind not in named or not name:
            raise MarkingError(f"panjereh:replaces: {token!r} is not visit:<id> or document:<id> of the service card")
        named[kind].append(name)
    if not any(named.values()):
        raise MarkingError("panjereh:replaces is empty: name the visit:<id> or document:<id> this step replaces")
    return Replacement(node.get("id", ""), tuple(named["visit"]), tuple(named["document"]))


def _check_place(node: etree._Element) -> None:
    unknown = sorted(etree.QName(name).localname for name in node.attrib
                     if name.startswith(PANJEREH) and etree.QName(name).localname not in ATTRIBUTES)
    if unknown:
        raise MarkingError(f"unknown Panjereh attribute(s) {', '.join('panjereh:' + u for u in unknown)} "
                           f"(known: {', '.join('panjereh:' + a for a in ATTRIBUTES)})")
    if not (node.tag.startswith(BPMN) and local(node) in ACTIVITIES):
        raise MarkingError(f"Panjereh markings go on tasks and subprocesses, not on <{local(node) or node.tag}>")


def read(node: etree._Element) -> tuple[PresenceMark | None, Replacement | None]:
    """The markings of one element.

    Raises:
        MarkingError: a value the ledger does not know, or markings on an element that is not an activity.
    """
    _check_place(node)
    return _presence(node), _replacement(node)


def journey_after(roots: Iterable[etree._Element]) -> tuple[JourneyAfter, list[tuple[str, str]]]:
    """Every marking of the models, and (element id, problem) for each that cannot be read."""
    presences: list[PresenceMark] = []
    replacements: list[Replacement] = []
    problems: list[tuple[str, str]] = []
    for root in roots:
        for node in _marked(root):
            try:
                presence, replacement = read(node)
            except MarkingError as err:
                problems.append((node.get("id", ""), str(err)))
                continue
            if presence is not None:
                presences.append(presence)
            if replacement is not None:
                replacements.append(replacement)
    return JourneyAfter(tuple(presences), tuple(replacements)), problems


def _describe(presence: PresenceMark | None, replacement: Replacement | None) -> str:
    parts = []
    if presence is not None and presence.presence is not Presence.NONE:
        where = f" at office '{presence.office}'" if presence.office else ""
        visit = f", the card's visit '{presence.visit}'" if presence.visit else ""
        parts.append(f"the citizen's presence is {presence.presence} ({presence.reason}{where}{visit})")
    elif presence is not None:
        parts.append("marked as needing no presence")
    if replacement is not None:
        named = [f"visit '{v}'" for v in replacement.visits] + [f"document '{d}'" for d in replacement.documents]
        parts.append(f"replaces {', '.join(named)}")
    return "visits ledger: " + "; ".join(parts)


def apply(ctx: ImportContext) -> None:
    """Check every Panjereh marking and say in the report what it counts for (the XML is kept as it is)."""
    for node in _marked(ctx.root):
        try:
            presence, replacement = read(node)
        except MarkingError as err:
            ctx.mark(node, "unsupported", f"{err}: the visits ledger cannot count this step")
            continue
        ctx.mark(node, "executes", _describe(presence, replacement))
