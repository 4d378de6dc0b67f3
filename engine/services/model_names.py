"""Deploy refuses a model whose ids and names do not fit where the engine stores them.

Process ids, element ids, lane names (and the agency codes they stand for), message and signal
names and connector operations are written into length-limited columns while instances run
(`engine.db.limits` lists them). A model that holds a longer one would deploy and then fail at
the first start or step that stores it, so each is refused here, in the report, with its
element and line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors.registry import Registry
from engine.core.documents import Document
from engine.core.names import NameKind, StoredName, stored_names
from engine.core.package import CompiledPackage
from engine.core.report import Report, shown
from engine.db import limits
from engine.db.limits import Stored
from engine.services.access import audience_of

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
LIMITS: dict[NameKind, Stored] = {
    "process id": limits.PROCESS_ID,
    "element id": limits.ELEMENT_ID,
    "lane": limits.LANE,
    "message name": limits.MESSAGE_NAME,
    "signal name": limits.SIGNAL_NAME,
}
Place = tuple[str, int | None]


def check_names(docs: Sequence[Document], compiled: CompiledPackage, report: Report, *,
                lanes: Mapping[str, str], registry: Registry | None, manual: str) -> None:
    """Add an error to `report` for every stored id or name of `compiled` that is too long.

    `lanes` is the service's lane-to-agency table; operations starting with `manual` are run
    by no connector, so no agency's record names them.
    """
    places = _places(docs)
    lanes_seen: set[str] = set()
    for name in stored_names(compiled):
        if name.kind == "lane":
            # Every task of a lane names it: reported once, at the first of them.
            if name.value in lanes_seen:
                continue
            lanes_seen.add(name.value)
        _check(name, LIMITS[name.kind], places, report)
        if name.kind == "lane":
            audience, agency = audience_of(name.value, dict(lanes))
            if audience == "agency" and agency and not limits.AGENCY.fits(agency):
                _refuse(report, places, name.element_id,
                        f"lane '{shown(name.value)}' stands for the agency code '{shown(agency)}', which is "
                        f"{len(agency):,} characters long; the engine stores at most {limits.AGENCY.length:,} "
                        "(map the lane to a shorter agency code in service.toml [lanes])")
    for binding in compiled.service_bindings():
        operation = binding.operation
        if not limits.OPERATION.fits(operation):
            _refuse(report, places, binding.element_id,
                    f"{limits.OPERATION.too_long(operation)} ('{shown(operation)}')")
            continue
        if operation.startswith(manual):
            continue
        connector_id = operation.split("/", 1)[0]
        if not limits.CONNECTOR.fits(connector_id):
            _refuse(report, places, binding.element_id,
                    f"{limits.CONNECTOR.too_long(connector_id)} ('{shown(connector_id)}')")
        installed = registry.get(operation) if registry is not None else None
        if installed is not None and not limits.AGENCY.fits(installed.agency):
            _refuse(report, places, binding.element_id,
                    f"connector '{shown(installed.connector_id)}' names its agency with {len(installed.agency):,} "
                    f"characters; the engine records at most {limits.AGENCY.length:,}, so its calls cannot be "
                    "recorded; the connector must use a shorter agency code")


def _check(name: StoredName, stored: Stored, places: dict[str, Place], report: Report) -> None:
    if stored.fits(name.value):
        return
    what = "" if name.kind == "element id" else f" ('{shown(name.value)}')"
    _refuse(report, places, name.element_id, f"{stored.too_long(name.value)}{what}")


def _refuse(report: Report, places: dict[str, Place], element_id: str, message: str) -> None:
    file, line = places.get(element_id, ("", None))
    report.error(message, file, element_id, line)


def _places(docs: Sequence[Document]) -> dict[str, Place]:
    """Where each id of the BPMN documents is: its file and line (the first one, for a repeated id)."""
    found: dict[str, Place] = {}
    for doc in docs:
        if doc.kind != "bpmn":
            continue
        for node in doc.root.iter():
            if isinstance(node.tag, str) and node.tag.startswith(BPMN) and node.get("id"):
                found.setdefault(node.get("id", ""), (doc.name, node.sourceline))
    return found
