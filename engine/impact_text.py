"""The visits ledger as `panjereh impact` prints it: one row per service, the total, the targets."""

from __future__ import annotations

from engine.core.visits import VisitCounts
from engine.services.impact import AGENCY_FIELDS_TARGET, AVOIDABLE_REMOVED_TARGET, Impact
from engine.services.ledger import FieldCounts

HEADER = ("process", "visits", "avoidable", "irreducible", "documents", "offices", "fields fetched",
          "fields asked")


def _row(name: str, visits: VisitCounts, fields: FieldCounts) -> tuple[str, ...]:
    return (name, f"{visits.visits_before} → {visits.visits_after}",
            f"{visits.avoidable_before} → {visits.avoidable_after}",
            f"{visits.irreducible_before} → {visits.irreducible}",
            f"{visits.documents_before} → {visits.documents_after}",
            f"{visits.offices_before} → {visits.offices_after}", str(fields.total_prefilled), str(fields.total_asked))


def _share(part: int, whole: int, what: str, target: int) -> str:
    if not whole:
        return f"{what}: none to count (target {target}%)"
    share = part * 100 // whole
    verdict = "met" if share >= target else "not met"
    return f"{what}: {part} of {whole}, {share}% (target {target}%: {verdict})"


def render(impact: Impact) -> str:
    """The ledger as a plain-text table (before → after in each cell), then how far the targets are."""
    rows: list[tuple[str, ...]] = [HEADER]
    for service in impact.services:
        if service.visits is not None and service.measured:
            rows.append(_row(service.process, service.visits.counts, service.fields))
    rows.append(_row("total", impact.visits, impact.fields))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    visits, fields = impact.visits, impact.fields
    lines += ["", _share(visits.avoidable_before - visits.avoidable_after, visits.avoidable_before,
                         "avoidable visits removed", AVOIDABLE_REMOVED_TARGET),
              _share(fields.agency_held_prefilled, fields.agency_held,
                     "identity, address and ownership fields fetched from agencies", AGENCY_FIELDS_TARGET)]
    for service in impact.services:
        if not service.measured:
            why = "; ".join(service.problems) or "its service.toml declares no journey before ([before])"
            lines.append(f"not counted: {service.process}: {why}")
    return "\n".join(lines)
