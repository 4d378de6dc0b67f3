"""Instance state as JSON, without the process spec.

Specs belong to the deployment and are compiled once per process version; storing them in
every instance would double the state size and pin stale copies. The serializer version
and library version are stored beside each blob so a worker never reads state written by
a newer SpiffWorkflow (older readers silently drop task data).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import EventConverter, ParallelGatewayConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask

from engine.core.event_subprocesses import EventStart
from engine.core.joins import EngineParallelGateway
from engine.core.multi_instance import BoundedParallelMultiInstance, BoundedSequentialMultiInstance
from engine.core.parser import ParkingServiceTask
from engine.core.workflow import EngineSubWorkflow, EngineTask, EngineWorkflow

SERIALIZER_VERSION = SPIFF_SERIALIZER_VERSION
LIBRARY_VERSION = version("SpiffWorkflow")


class SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Drops the specs on save; takes them from the deployment on load."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(workflow)
        dct.pop("spec")
        dct.pop("subprocess_specs")
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None,
                  subprocess_specs: dict[str, Any] | None = None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _EngineWorkflowConverter(SpeclessWorkflowConverter):
    # Our subclasses keep SpiffWorkflow's type names, so stored state reads the same either way.
    def __init__(self, target_class: type, registry: Any, typename: str | None = None) -> None:
        super().__init__(target_class, registry, "BpmnWorkflow")


class _EngineSubWorkflowConverter(BpmnSubWorkflowConverter):  # type: ignore[misc]
    def __init__(self, target_class: type, registry: Any, typename: str | None = None) -> None:
        super().__init__(target_class, registry, "BpmnSubWorkflow")


class _EngineTaskConverter(TaskConverter):  # type: ignore[misc]
    def __init__(self, target_class: type, registry: Any, typename: str | None = None) -> None:
        super().__init__(target_class, registry, "Task")


class _EventStartConverter(EventConverter):  # type: ignore[misc]
    # Specs are never stored with a state; they are converted only to be compared, when an
    # instance moves to another version (engine/core/migration.py).
    def to_dict(self, spec: EventStart) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["interrupting"] = spec.interrupting
        return dct

    def from_dict(self, dct: dict[str, Any]) -> EventStart:
        interrupting = dct.pop("interrupting", False)
        spec: EventStart = super().from_dict(dct)
        spec.interrupting = interrupting
        return spec


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    config[ParkingServiceTask] = ServiceTaskConverter
    config[EngineParallelGateway] = ParallelGatewayConverter
    config[EventStart] = _EventStartConverter
    # Registered after SpiffWorkflow's classes, so restoring builds ours.
    config[EngineWorkflow] = _EngineWorkflowConverter
    config[EngineSubWorkflow] = _EngineSubWorkflowConverter
    config[EngineTask] = _EngineTaskConverter
    config[BoundedParallelMultiInstance] = config[ParallelMultiInstanceTask]
    config[BoundedSequentialMultiInstance] = config[SequentialMultiInstanceTask]
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _serializer()


class StateVersionError(ValueError):
    """The state was written by a serializer this engine cannot read faithfully."""


def _as_tuple(dotted: str) -> tuple[int, ...]:
    return tuple(int(part) for part in dotted.split(".") if part.isdigit())


def spec_registry() -> Any:
    """The converters of every spec class the engine's parser builds: SpiffWorkflow's diff
    compares two versions of an element by what these write of each."""
    return _SERIALIZER.registry


def dump_state(workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON text, without its spec."""
    text: str = _SERIALIZER.serialize_json(workflow)
    return text


def load_state(state: str, serializer_version: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from `dump_state` output and the deployment's specs.

    The caller re-attaches the script engine: the restored workflow has SpiffWorkflow's
    default one, which runs plain `eval`.
    """
    if _as_tuple(serializer_version) > _as_tuple(SERIALIZER_VERSION):
        raise StateVersionError(
            f"instance state has serializer version {serializer_version}, newer than this "
            f"engine's {SERIALIZER_VERSION}; upgrade SpiffWorkflow on this worker"
        )
    dct = json.loads(state, cls=_SERIALIZER.json_decoder_cls)
    dct[_SERIALIZER.VERSION_KEY] = dct.get(_SERIALIZER.VERSION_KEY, serializer_version)
    _SERIALIZER.migrate(dct)
    workflow: BpmnWorkflow = _SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    return workflow
