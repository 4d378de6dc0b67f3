"""The visits ledger of the whole catalogue: per service and in total, as `/impact` and `panjereh impact` show it.

The services counted are those the single window offers: the newest version of each process
deployed from a service folder, read back from what its deployment stores (the translated
models, the forms and the card it was deployed with), never from the files on disk. Only when
nothing is deployed (a fresh checkout, before the first `panjereh serve`) does the command line
translate the service folders under `processes/` the way deploying would, storing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from engine.bpmn.translated import restored
from engine.core.visits import VisitCounts, percent
from engine.services.catalogue import CatalogueError, offered, read_service, service_folders
from engine.services.deployed_packages import DeploymentRejected, stored
from engine.services.deployments import check
from engine.services.ledger import FieldCounts, ServiceLedger, service_ledger
from engine.settings import Settings

# The targets of issue 12 for the catalogue as a whole.
AVOIDABLE_REMOVED_TARGET = 80
AGENCY_FIELDS_TARGET = 60
Origin = Literal["deployed", "folders"]
COUNTS = tuple(VisitCounts.__dataclass_fields__)


@dataclass(frozen=True)
class Impact:
    """Every service's ledger and the sum of those measured."""

    services: tuple[ServiceLedger, ...]
    origin: Origin

    @property
    def measured(self) -> list[ServiceLedger]:
        return [s for s in self.services if s.measured]

    @property
    def visits(self) -> VisitCounts:
        total = VisitCounts()
        for service in self.measured:
            assert service.visits is not None
            total += service.visits.counts
        return total

    @property
    def fields(self) -> FieldCounts:
        total = FieldCounts()
        for service in self.measured:
            total += service.fields
        return total

    def as_dict(self) -> dict[str, Any]:
        """`{"services": [...], "total": {...}}`, as `panjereh impact --json` prints it."""
        total = {"services": len(self.measured), **figures(self.visits, self.fields),
                 "targets": {"avoidable_removed_percent": AVOIDABLE_REMOVED_TARGET,
                             "agency_fields_prefilled_percent": AGENCY_FIELDS_TARGET}}
        return {"services": [service_dict(s) for s in self.services], "total": total}


def figures(visits: VisitCounts, fields: FieldCounts) -> dict[str, Any]:
    """The numbers of one ledger entry, with the percentages the targets are judged by."""
    counts = {name: getattr(visits, name) for name in COUNTS}
    removed = visits.avoidable_before - visits.avoidable_after
    return {**counts, "fields_prefilled": fields.total_prefilled, "fields_asked": fields.total_asked,
            "fields_by_kind": {kind: {"prefilled": fields.prefilled.get(kind, 0), "asked": fields.asked.get(kind, 0)}
                               for kind in fields.prefilled},
            "avoidable_removed": removed,
            "avoidable_removed_percent": percent(removed, visits.avoidable_before),
            "agency_fields_prefilled_percent": percent(fields.agency_held_prefilled, fields.agency_held)}


def service_dict(service: ServiceLedger) -> dict[str, Any]:
    entry: dict[str, Any] = {"process": service.process, "version": service.version, "title": dict(service.title),
                             "measured": service.measured}
    visits = service.visits
    entry.update(figures(visits.counts if visits else VisitCounts(), service.fields))
    if visits is not None:
        entry["visits"] = [{"id": f.visit.id, "reason": str(f.visit.reason), "office": f.visit.office,
                            "title": f.visit.title, "source": f.visit.source, "after": f.fate, "by": list(f.by)}
                           for f in visits.visits]
        entry["new_visits"] = [{"element": m.element_id, "reason": str(m.reason), "office": m.office}
                               for m in visits.new_visits]
        entry["documents"] = [{"id": f.document.id, "title": f.document.title, "source": f.document.source,
                               "after": f.fate, "by": list(f.by)} for f in visits.documents]
        entry["new_documents"] = [{"element": u.element_id, "field": u.path} for u in visits.new_documents]
    entry["problems"] = list(service.problems)
    return entry


def deployed(session: Session) -> Impact:
    """The ledger of the services the single window offers, from what their deployments store."""
    found = []
    for service in offered(session):
        try:
            kept = stored(session, service.deployment_id)
        except DeploymentRejected as err:
            found.append(ServiceLedger(service.key, service.version, dict(service.meta.get("title") or {}), {},
                                       None, FieldCounts(), tuple(p.message for p in err.report.problems)))
            continue
        roots = [d.root for d in kept.documents if d.kind == "bpmn"]
        found.append(service_ledger(service.key, service.version, roots, kept.forms, service.meta))
    return Impact(tuple(found), "deployed")


def from_folders(root: Path, settings: Settings) -> Impact:
    """The ledger of the service folders under `root`, translated as deploying them would, storing nothing."""
    found = []
    for folder in service_folders(root):
        try:
            service = read_service(folder)
        except CatalogueError as err:
            found.append(ServiceLedger(folder.name, None, {}, {}, None, FieldCounts(), (str(err),)))
            continue
        process = str(service.meta.get("process", folder.name))
        loaded, report = check(service.files, settings, service=service.meta)
        if loaded is None:
            problems = tuple(str(p) for p in report.problems if p.severity == "error")
            found.append(ServiceLedger(process, None, dict(service.meta.get("title") or {}), {}, None, FieldCounts(),
                                       problems))
            continue
        documents = [restored(name, content) for name, content in sorted(loaded.translated.items())]
        roots = [d.root for d in documents if d.kind == "bpmn"]
        found.append(service_ledger(process, None, roots, loaded.forms, service.meta))
    return Impact(tuple(found), "folders")
