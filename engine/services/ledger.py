"""One service's visits ledger, read from what a deployment runs: its models, its forms and its card.

The journey before comes from the card (`engine.core.visits.journey_before`), the journey after
from the Panjereh markings of the translated models (`engine.bpmn.presence`) and from the forms
of the citizen's own tasks (`forms.origins`): which fields were fetched from another agency,
which the citizen types, which files they give. Deploying a service checks that the two
journeys fit (`check`), so what the ledger counts is what was reviewed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.bpmn import presence
from engine.core.documents import Document
from engine.core.report import Report
from engine.core.visits import (
    CardError,
    JourneyAfter,
    JourneyBefore,
    Upload,
    VisitLedger,
    journey_before,
    measure,
    mismatches,
)
from engine.services.access import audience_of
from forms.model import FormModel
from forms.origins import AGENCY_HELD, FIELD_KINDS, FieldOrigin, OriginError, field_origins

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CARD = "service.toml"


@dataclass(frozen=True)
class FieldCounts:
    """Fields of the citizen's forms: fetched from another agency, or asked, by what they hold."""

    prefilled: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELD_KINDS, 0))
    asked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELD_KINDS, 0))

    @classmethod
    def of(cls, origins: Sequence[FieldOrigin]) -> FieldCounts:
        return cls({k: sum(1 for o in origins if o.prefilled and o.kind == k) for k in FIELD_KINDS},
                   {k: sum(1 for o in origins if o.asked and o.kind == k) for k in FIELD_KINDS})

    def __add__(self, other: FieldCounts) -> FieldCounts:
        return FieldCounts({k: self.prefilled.get(k, 0) + other.prefilled.get(k, 0) for k in FIELD_KINDS},
                           {k: self.asked.get(k, 0) + other.asked.get(k, 0) for k in FIELD_KINDS})

    @property
    def total_prefilled(self) -> int:
        return sum(self.prefilled.values())

    @property
    def total_asked(self) -> int:
        return sum(self.asked.values())

    @property
    def agency_held_prefilled(self) -> int:
        return sum(self.prefilled.get(k, 0) for k in AGENCY_HELD)

    @property
    def agency_held(self) -> int:
        """Identity, address and ownership fields, fetched or asked."""
        return self.agency_held_prefilled + sum(self.asked.get(k, 0) for k in AGENCY_HELD)


@dataclass(frozen=True)
class ServiceLedger:
    """A service's ledger; `visits` is None when its card declares no journey before (not measured)."""

    process: str
    version: int | None
    title: Mapping[str, str]
    offices: Mapping[str, Mapping[str, str]]
    visits: VisitLedger | None
    fields: FieldCounts
    problems: tuple[str, ...] = ()

    @property
    def measured(self) -> bool:
        return self.visits is not None and not self.problems


@dataclass(frozen=True)
class Journey:
    """Both journeys of one service as its files declare them, and what does not fit."""

    before: JourneyBefore | None
    after: JourneyAfter
    origins: dict[str, list[FieldOrigin]]
    problems: list[tuple[str, str]]  # (element id or the card, what is wrong)


def _lanes(roots: Sequence[etree._Element]) -> dict[str, str]:
    found: dict[str, str] = {}
    for root in roots:
        for lane in root.iter(f"{BPMN}lane"):
            for ref in lane.iterfind(f"{BPMN}flowNodeRef"):
                found[(ref.text or "").strip()] = lane.get("name") or lane.get("id", "")
    return found


def _lane_of(roots: Sequence[etree._Element], lanes: Mapping[str, str], element_id: str) -> str | None:
    """The lane of an element, or of the nearest subprocess around it that is in one."""
    for root in roots:
        for node in root.xpath("//*[@id=$id]", id=element_id):
            current = node
            while current is not None:
                if current.get("id") in lanes:
                    return lanes[current.get("id")]
                current = current.getparent()
    return None


def journey(roots: Sequence[etree._Element], forms: Mapping[str, FormModel], meta: Mapping[str, Any]) -> Journey:
    """Read both journeys of a service: `roots` are its translated BPMN documents, `forms` its stored forms."""
    problems: list[tuple[str, str]] = []
    try:
        before = journey_before(meta)
    except CardError as err:
        before = None
        problems += [("", problem) for problem in err.problems]
    after, unreadable = presence.journey_after(roots)
    problems += unreadable
    lanes, agencies = _lanes(roots), {str(k): str(v) for k, v in (meta.get("lanes") or {}).items()}
    origins: dict[str, list[FieldOrigin]] = {}
    for element_id, form in forms.items():
        if audience_of(_lane_of(roots, lanes, element_id), agencies)[0] != "citizen":
            continue
        try:
            origins[element_id] = field_origins(form)
        except OriginError as err:
            problems.append((element_id, str(err)))
    uploads = tuple(Upload(element_id, o.path, o.document) for element_id, found in origins.items()
                    for o in found if o.upload)
    after = JourneyAfter(after.presences, after.replacements, uploads)
    if before is not None:
        problems += [(m.element_id, m.message) for m in mismatches(before, after)]
    return Journey(before, after, origins, problems)


def check(docs: Sequence[Document], forms: Mapping[str, FormModel], meta: Mapping[str, Any] | None,
          report: Report) -> None:
    """Refuse a service whose card and models do not fit: each problem is an error in `report`.

    Markings the ledger cannot read at all are the importer's to report (`engine.bpmn.presence`).
    """
    if meta is None:
        return
    bpmn = [d for d in docs if d.kind == "bpmn"]
    found = journey([d.root for d in bpmn], forms, meta)
    unreadable = set(presence.journey_after(d.root for d in bpmn)[1])
    for element_id, message in found.problems:
        if (element_id, message) in unreadable:
            continue
        if not element_id:
            report.error(f"the journey before Panjereh: {message}", CARD)
            continue
        doc, line = _where(bpmn, element_id)
        report.error(f"visits ledger: {message}", doc, element_id, line)


def _where(docs: Sequence[Document], element_id: str) -> tuple[str, int | None]:
    for doc in docs:
        found = doc.root.xpath("//*[@id=$id]", id=element_id)
        if found:
            return doc.name, found[0].sourceline
    return "", None


def service_ledger(process: str, version: int | None, roots: Sequence[etree._Element],
                   forms: Mapping[str, FormModel], meta: Mapping[str, Any]) -> ServiceLedger:
    """Count one service from its translated models, its forms and its card."""
    found = journey(roots, forms, meta)
    fields = FieldCounts.of([o for origins in found.origins.values() for o in origins])
    problems = tuple(f"{element_id}: {message}" if element_id else message for element_id, message in found.problems)
    visits = measure(found.before, found.after) if found.before is not None and not problems else None
    offices = found.before.offices if found.before is not None else {}
    return ServiceLedger(process, version, dict(meta.get("title") or {}), offices, visits, fields, problems)
