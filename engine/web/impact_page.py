"""`/impact`: the ledger of visits, open to anyone, counted from what the single window offers."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

from engine.core.visits import percent
from engine.services import impact
from engine.services.access import Audience
from engine.web.audience import audience
from engine.web.page_context import PageDep
from forms.model import text

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Target:
    """One target of the catalogue and how far it is."""

    key: str
    part: int
    whole: int
    target: int

    @property
    def percent(self) -> int | None:
        return percent(self.part, self.whole)

    @property
    def met(self) -> bool:
        return self.percent is not None and self.percent >= self.target


@dataclass(frozen=True)
class SourcePart:
    """One source of a figure: a link (with its host as the link text) and what it says, or a citation."""

    href: str | None
    host: str
    note: str
    note_lang: str


def source_parts(source: str) -> list[SourcePart]:
    """A card's `source` ("URL (what it says); citation; ...") as parts a page can link."""
    found = []
    for part in (p.strip() for p in source.split(";")):
        if not part:
            continue
        first, _, rest = part.partition(" ")
        address = urlsplit(first)
        linked = address.scheme in ("http", "https") and bool(address.hostname)
        note = rest.strip() if linked else part
        lang = next(iter(text(note) or {"fa": ""}))
        found.append(SourcePart(first if linked else None, (address.hostname or "") if linked else "", note, lang))
    return found


@router.get("/impact", **audience(Audience.ANYONE))
def visits_ledger(page: PageDep) -> Response:
    with page.runtime.reading() as session:
        found = impact.deployed(session)
    visits, fields = found.visits, found.fields
    targets = [Target("removed", visits.avoidable_before - visits.avoidable_after, visits.avoidable_before,
                      impact.AVOIDABLE_REMOVED_TARGET),
               Target("fetched", fields.agency_held_prefilled, fields.agency_held, impact.AGENCY_FIELDS_TARGET)]
    return page.render("impact.html", impact=found, targets=targets, source_parts=source_parts)
