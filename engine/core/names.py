"""The ids and names a compiled package makes the engine write down, each with its element.

Running an instance stores them in length-limited columns: process ids, element ids, lane
names, and the names of the messages and signals it waits for, throws or starts on. The
service layer compares each with the column that keeps it before the package is deployed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition

from engine.core.package import CompiledPackage

NameKind = Literal["process id", "element id", "lane", "message name", "signal name"]


@dataclass(frozen=True)
class StoredName:
    """One value the engine will store, and the element (its id) an analyst finds it at."""

    kind: NameKind
    value: str
    element_id: str


def stored_names(package: CompiledPackage) -> list[StoredName]:
    """Every id and name of the executable processes of `package` that instances store, once each."""
    found: dict[tuple[str, str, str], StoredName] = {}
    for name in _names(package):
        found.setdefault((name.kind, name.value, name.element_id), name)
    return list(found.values())


def _names(package: CompiledPackage) -> Iterator[StoredName]:
    for key, info in package.processes.items():
        if not info.executable:
            continue
        yield StoredName("process id", key, key)
        spec, subprocesses = package.spec(key)
        for process in (spec, *subprocesses.values()):
            for task in process.task_specs.values():
                element_id = getattr(task, "bpmn_id", None)
                if not element_id:
                    continue
                yield StoredName("element id", element_id, element_id)
                lane = getattr(task, "lane", None)
                if lane:
                    yield StoredName("lane", lane, element_id)
                yield from _events(getattr(task, "event_definition", None), element_id)


def _events(definition: Any, element_id: str) -> Iterator[StoredName]:
    definitions = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    for each in definitions:
        if isinstance(each, MessageEventDefinition) and each.name:
            yield StoredName("message name", str(each.name), element_id)
        elif isinstance(each, SignalEventDefinition) and each.name:
            yield StoredName("signal name", str(each.name), element_id)
