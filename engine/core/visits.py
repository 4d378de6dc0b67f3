"""The ledger of visits: each time a citizen must appear in person, before Panjereh and after it.

The metric of research §5.3. A service's card (`service.toml`) declares the journey *before*:
each in-person visit with its reason, the office visited and a source (the service's public
card, a law), and each document asked. The model declares the journey *after*
(`engine.bpmn.presence`): steps that still need the citizen present, and the visits and
documents a step replaces. This module holds the words of both, reads the card's part and
counts; no figure is typed in.

A visit of the card is *replaced* when a step of the model names it, *kept* when a step that
needs the citizen present says it is that visit, and otherwise it *remains*: the citizen still
makes it outside Panjereh. So a model that only leaves a check out (without a connector doing
it) removes nothing. Documents count the same way; a document the citizen uploads is still asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class VisitReason(StrEnum):
    """Why the citizen has to be there in person (research §5.3)."""

    IDENTITY = "identity"
    DOCUMENT_AUTHENTICITY = "document_authenticity"
    OBTAIN_DOCUMENT_FROM_OTHER_AGENCY = "obtain_document_from_other_agency"
    SIGNATURE = "signature"
    BIOMETRICS = "biometrics"
    PHYSICAL_INSPECTION = "physical_inspection"
    PAYMENT = "payment"
    PICKUP = "pickup"


# The law needs the person or the place itself for these: the ledger shows them apart, so that
# a service is not counted short for a presence no connector can replace.
IRREDUCIBLE = frozenset({VisitReason.BIOMETRICS, VisitReason.PHYSICAL_INSPECTION})
# An inspection happens where the thing inspected is (the premises, a building site); every
# other visit is to an office the card names.
ON_SITE = frozenset({VisitReason.PHYSICAL_INSPECTION})


class Presence(StrEnum):
    """What a step of the model asks of the citizen's body."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"


Fate = Literal["replaced", "kept", "remains"]
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LANGUAGES = ("fa", "en")
_VISIT_KEYS = {"id", "reason", "office", "fa", "en", "source"}
_DOCUMENT_KEYS = {"id", "fa", "en", "source"}


class CardError(ValueError):
    """A service card's journey before Panjereh is not valid; `problems` says each thing wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Visit:
    """One in-person visit of today's journey."""

    id: str
    reason: VisitReason
    office: str | None
    title: dict[str, str]
    source: str

    @property
    def irreducible(self) -> bool:
        return self.reason in IRREDUCIBLE


@dataclass(frozen=True)
class AskedDocument:
    """One document today's journey asks the citizen to bring."""

    id: str
    title: dict[str, str]
    source: str


@dataclass(frozen=True)
class JourneyBefore:
    """The journey before Panjereh, as the card declares it."""

    visits: tuple[Visit, ...]
    documents: tuple[AskedDocument, ...]
    offices: dict[str, dict[str, str]]


def journey_before(meta: Mapping[str, Any]) -> JourneyBefore | None:
    """The `[before]` part of a service card and its `[offices]`; None when the card has no `[before]`.

    Raises:
        CardError: listing every problem at once (unknown reason, missing source, unknown office...).
    """
    raw, offices_raw = meta.get("before"), meta.get("offices", {})
    problems: list[str] = []
    offices = _offices(offices_raw, problems)
    if raw is None:
        if problems:
            raise CardError(problems)
        return None
    if not isinstance(raw, Mapping):
        raise CardError([*problems, "[before] must be a table with `visits` and `documents`"])
    for key in sorted(set(raw) - {"visits", "documents"}):
        problems.append(f"[before] has an unknown key '{key}' (known: visits, documents)")
    visits = tuple(v for i, item in enumerate(_list(raw, "visits", problems))
                   if (v := _visit(i, item, offices, problems)) is not None)
    documents = tuple(d for i, item in enumerate(_list(raw, "documents", problems))
                      if (d := _document(i, item, problems)) is not None)
    for what, ids in (("visit", [v.id for v in visits]), ("document", [d.id for d in documents])):
        for twice in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"two {what}s have the id '{twice}'")
    if problems:
        raise CardError(problems)
    return JourneyBefore(visits, documents, offices)


def _offices(raw: Any, problems: list[str]) -> dict[str, dict[str, str]]:
    if not isinstance(raw, Mapping):
        problems.append("[offices] must be a table of offices, each with `fa` and `en` names")
        return {}
    found: dict[str, dict[str, str]] = {}
    for office_id, names in raw.items():
        where = f"[offices.{office_id}]"
        if not _ID.match(str(office_id)):
            problems.append(f"{where}: an office id is lower-case letters, digits and _")
        if not isinstance(names, Mapping):
            problems.append(f"{where} must be a table with `fa` and `en`")
            continue
        for key in sorted(set(names) - set(_LANGUAGES)):
            problems.append(f"{where} has an unknown key '{key}' (known: fa, en)")
        found[str(office_id)] = _title(names, where, problems)
    return found


def _list(raw: Mapping[str, Any], key: str, problems: list[str]) -> list[Any]:
    items = raw.get(key, [])
    if not isinstance(items, list):
        problems.append(f"before.{key} must be a list of tables ([[before.{key}]])")
        return []
    return items


def _title(item: Mapping[str, Any], where: str, problems: list[str]) -> dict[str, str]:
    title = {}
    for lang in _LANGUAGES:
        value = item.get(lang)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: `{lang}` (what it is, in {'Persian' if lang == 'fa' else 'English'}) "
                            "is missing")
        else:
            title[lang] = value.strip()
    return title


def _common(kind: str, index: int, item: Any, known: set[str], problems: list[str]) -> tuple[str, str] | None:
    """The entry's id and where it stands (for messages); checks what visits and documents share."""
    if not isinstance(item, Mapping):
        problems.append(f"before.{kind}s[{index}] must be a table")
        return None
    item_id = item.get("id")
    where = f"before.{kind}s[{index}]" + (f" '{item_id}'" if isinstance(item_id, str) else "")
    if not isinstance(item_id, str) or not _ID.match(item_id):
        problems.append(f"{where}: `id` must be lower-case letters, digits and _ (the model names it by this id)")
    for key in sorted(set(item) - known):
        problems.append(f"{where} has an unknown key '{key}' (known: {', '.join(sorted(known))})")
    source = item.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(f"{where}: `source` is missing: say where the figure comes from (the service's public "
                        "card or the law, as a URL or a citation)")
    return (item_id if isinstance(item_id, str) else "", where)


def _visit(index: int, item: Any, offices: Mapping[str, Any], problems: list[str]) -> Visit | None:
    common = _common("visit", index, item, _VISIT_KEYS, problems)
    if common is None:
        return None
    visit_id, where = common
    reason_text = item.get("reason")
    reason = reason_text if reason_text in set(VisitReason) else None
    if reason is None:
        problems.append(f"{where}: reason {reason_text!r} is not one of {', '.join(VisitReason)}")
    office = item.get("office")
    if office is not None and (not isinstance(office, str) or office not in offices):
        problems.append(f"{where}: office {office!r} is not in [offices] (known: {', '.join(offices) or 'none'})")
    elif office is None and reason is not None and reason not in ON_SITE:
        problems.append(f"{where}: `office` is missing: say which office of [offices] the citizen visits "
                        "(only an inspection may happen on site)")
    title = _title(item, where, problems)
    if reason is None:
        return None
    return Visit(visit_id, VisitReason(reason), office if isinstance(office, str) else None, title,
                 str(item.get("source", "")).strip())


def _document(index: int, item: Any, problems: list[str]) -> AskedDocument | None:
    common = _common("document", index, item, _DOCUMENT_KEYS, problems)
    if common is None:
        return None
    document_id, where = common
    return AskedDocument(document_id, _title(item, where, problems), str(item.get("source", "")).strip())


@dataclass(frozen=True)
class PresenceMark:
    """A step of the model marked with the citizen's presence."""

    element_id: str
    presence: Presence
    reason: VisitReason | None
    office: str | None = None
    visit: str | None = None  # the card's visit this step is, if it is one of them


@dataclass(frozen=True)
class Replacement:
    """A step of the model that stands in for visits or documents of the card."""

    element_id: str
    visits: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Upload:
    """A file the citizen gives in a form, and the card's document it is, if any."""

    element_id: str
    path: str
    document: str | None


@dataclass(frozen=True)
class JourneyAfter:
    """What the model still asks in person and what it replaced."""

    presences: tuple[PresenceMark, ...] = ()
    replacements: tuple[Replacement, ...] = ()
    uploads: tuple[Upload, ...] = ()

    @property
    def required(self) -> list[PresenceMark]:
        return [p for p in self.presences if p.presence is Presence.REQUIRED]


@dataclass(frozen=True)
class Mismatch:
    """A marking of the model that does not fit the card."""

    element_id: str
    message: str


def mismatches(before: JourneyBefore, after: JourneyAfter) -> list[Mismatch]:
    """Every marking of the model that names something the card does not declare, or contradicts it."""
    visits = {v.id: v for v in before.visits}
    documents = {d.id for d in before.documents}
    found: list[Mismatch] = []
    for step in after.replacements:
        found += [Mismatch(step.element_id, f"replaces visit '{v}', which the service card does not declare "
                           f"(declared: {', '.join(visits) or 'none'})") for v in step.visits if v not in visits]
        found += [Mismatch(step.element_id, f"replaces document '{d}', which the service card does not declare "
                           f"(declared: {', '.join(sorted(documents)) or 'none'})")
                  for d in step.documents if d not in documents]
    replaced = _replaced_visits(after)
    for mark in after.required:
        if mark.visit is not None and mark.visit not in visits:
            found.append(Mismatch(mark.element_id, f"is visit '{mark.visit}', which the service card does not "
                                  f"declare (declared: {', '.join(visits) or 'none'})"))
        elif mark.visit is not None and mark.visit in replaced:
            found.append(Mismatch(mark.element_id, f"keeps visit '{mark.visit}', which "
                                  f"{', '.join(replaced[mark.visit])} replaces: a visit is kept or replaced"))
        if mark.office is not None and mark.office not in before.offices:
            found.append(Mismatch(mark.element_id, f"office '{mark.office}' is not in the card's [offices] "
                                  f"(known: {', '.join(before.offices) or 'none'})"))
        elif _office_after(mark, visits) is None and mark.reason not in ON_SITE:
            found.append(Mismatch(mark.element_id, "needs the citizen present but names no office: add "
                                  "panjereh:office with an office of the card's [offices]"))
    replaced_documents = {d for step in after.replacements for d in step.documents}
    for upload in after.uploads:
        if upload.document is not None and upload.document not in documents:
            found.append(Mismatch(upload.element_id, f"field '{upload.path}' is document '{upload.document}', "
                                  "which the service card does not declare"))
        elif upload.document in replaced_documents:
            found.append(Mismatch(upload.element_id, f"field '{upload.path}' still asks for document "
                                  f"'{upload.document}', which a step says it replaces"))
    return found


def _replaced_visits(after: JourneyAfter) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for step in after.replacements:
        for visit in step.visits:
            found.setdefault(visit, []).append(step.element_id)
    return found


def _office_after(mark: PresenceMark, visits: Mapping[str, Visit]) -> str | None:
    if mark.office is not None:
        return mark.office
    kept = visits.get(mark.visit or "")
    return kept.office if kept is not None else None


@dataclass(frozen=True)
class VisitFate:
    """What became of one visit of the card: replaced by steps, kept as a step, or still made outside."""

    visit: Visit
    fate: Fate
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentFate:
    document: AskedDocument
    fate: Fate
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class VisitCounts:
    """The visit, document and office figures of one service, or of several added up."""

    visits_before: int = 0
    visits_after: int = 0
    avoidable_before: int = 0
    avoidable_after: int = 0
    irreducible_before: int = 0
    irreducible: int = 0
    documents_before: int = 0
    documents_after: int = 0
    offices_before: int = 0
    offices_after: int = 0

    def __add__(self, other: VisitCounts) -> VisitCounts:
        return VisitCounts(**{name: getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__})


@dataclass(frozen=True)
class VisitLedger:
    """One service's visits and documents, counted, with what became of each."""

    counts: VisitCounts
    visits: tuple[VisitFate, ...]
    new_visits: tuple[PresenceMark, ...]
    documents: tuple[DocumentFate, ...]
    new_documents: tuple[Upload, ...] = field(default=())


def measure(before: JourneyBefore, after: JourneyAfter) -> VisitLedger:
    """Count a service's journey before and after; `after` should have no `mismatches` with `before`."""
    replaced = _replaced_visits(after)
    kept: dict[str, list[PresenceMark]] = {}
    new_visits = []
    for mark in after.required:
        if mark.visit is not None and mark.visit in {v.id for v in before.visits}:
            kept.setdefault(mark.visit, []).append(mark)
        else:
            new_visits.append(mark)
    fates = []
    after_visits: list[tuple[VisitReason | None, str | None]] = []
    for visit in before.visits:
        if visit.id in replaced:
            fates.append(VisitFate(visit, "replaced", tuple(replaced[visit.id])))
        elif visit.id in kept:
            marks = kept[visit.id]
            fates.append(VisitFate(visit, "kept", tuple(m.element_id for m in marks)))
            after_visits += [(m.reason or visit.reason, m.office or visit.office) for m in marks]
        else:
            fates.append(VisitFate(visit, "remains"))
            after_visits.append((visit.reason, visit.office))
    after_visits += [(m.reason, m.office) for m in new_visits]
    documents = _document_fates(before, after)
    known_documents = {d.id for d in before.documents}
    new_documents = tuple(u for u in after.uploads if u.document not in known_documents)
    counts = VisitCounts(
        visits_before=len(before.visits),
        visits_after=len(after_visits),
        avoidable_before=sum(1 for v in before.visits if not v.irreducible),
        avoidable_after=sum(1 for reason, _ in after_visits if reason not in IRREDUCIBLE),
        irreducible_before=sum(1 for v in before.visits if v.irreducible),
        irreducible=sum(1 for reason, _ in after_visits if reason in IRREDUCIBLE),
        documents_before=len(before.documents),
        documents_after=sum(1 for d in documents if d.fate != "replaced") + len(new_documents),
        offices_before=_distinct(v.office for v in before.visits),
        offices_after=_distinct(office for _, office in after_visits),
    )
    return VisitLedger(counts, tuple(fates), tuple(new_visits), documents, new_documents)


def _document_fates(before: JourneyBefore, after: JourneyAfter) -> tuple[DocumentFate, ...]:
    uploaded: dict[str, list[str]] = {}
    for upload in after.uploads:
        if upload.document is not None:
            uploaded.setdefault(upload.document, []).append(upload.element_id)
    replacing: dict[str, list[str]] = {}
    for step in after.replacements:
        for named in step.documents:
            replacing.setdefault(named, []).append(step.element_id)
    fates = []
    for document in before.documents:
        if document.id in uploaded:
            fates.append(DocumentFate(document, "kept", tuple(uploaded[document.id])))
        elif document.id in replacing:
            fates.append(DocumentFate(document, "replaced", tuple(replacing[document.id])))
        else:
            fates.append(DocumentFate(document, "remains"))
    return tuple(fates)


def _distinct(offices: Iterable[str | None]) -> int:
    return len({o for o in offices if o is not None})


def percent(part: int, whole: int) -> int | None:
    """`part` of `whole` in whole percent, rounded down (a target is met only when truly met); None of nothing."""
    return part * 100 // whole if whole else None
