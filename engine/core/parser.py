"""Our SpiffWorkflow parser: the spiff dialect plus the few changes the engine needs.

Service tasks never call out during engine steps: they evaluate their declared
parameters, record the call and park (STARTED) until the service layer completes them
with a result. A connector is slow, fails and is retried; none of that may happen while
an instance is locked in the middle of a transaction.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.task_parsers import GatewayParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser, SpiffTaskParser
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask

from engine.core.bindings import RetryPolicy, RetryProblem, output_targets, retry_policy
from engine.core.event_subprocesses import EventStart, EventStartParser
from engine.core.joins import EngineParallelGateway
from engine.core.multi_instance import bounded
from engine.core.spiff_compat import HookedProcessParser, HookedServiceTask

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PENDING_CALL = "pending_call"
ANSWER = "service_answer"


class ParkingServiceTask(HookedServiceTask):
    """A service task that records its call and waits for the service layer.

    Its output mappings (Camunda 7 and 8; `output_targets` names what they set) run as the
    post-script and read the answer's fields by name besides the case's data, as they do
    in Camunda; of the answer's fields, only those the mappings assign stay in the data.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, *, retry: RetryPolicy | None = None,
                 output_targets: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.retry = retry or RetryPolicy()
        self.output_targets = output_targets
        if output_targets and not kwargs.get("result_variable"):
            # Mappings say what to keep of the answer; SpiffWorkflow would also keep all of
            # it under a made-up name, personal fields the model never asked for included.
            self.result_variable = ""

    def execute_call(self, my_task: Any) -> None:
        """Record the call with its parameters evaluated; the task stays STARTED."""
        params = {
            name: my_task.workflow.script_engine.evaluate(my_task, param["value"])
            for name, param in (self.operation_params or {}).items()
        }
        my_task.internal_data[PENDING_CALL] = {"operation": self.operation_name or "", "params": params}
        return None

    def on_complete(self, my_task: Any) -> None:
        """Run the output mappings over the answer, keeping only the fields they assign."""
        answer = my_task.internal_data.pop(ANSWER, None)
        if self.postscript is not None and self.output_targets and isinstance(answer, dict):
            before = dict(my_task.data)
            my_task.data.update(answer)
            try:
                self.execute_script(my_task, self.postscript)
            finally:
                for name in answer.keys() - set(self.output_targets):
                    if name in before:
                        my_task.data[name] = before[name]
                    else:
                        my_task.data.pop(name, None)
            # SpiffBpmnTask's own hook would run the post-script a second time.
            self.complete_without_postscript(my_task)
        else:
            super().on_complete(my_task)


class ParkingServiceTaskParser(SpiffTaskParser):  # type: ignore[misc]
    """Reads `spiffworkflow:serviceTaskOperator` (which the importer writes for Camunda
    models too) and the retry policy; a bare service task parks too."""

    def create_task(self) -> Any:
        extensions = self.parse_extensions()
        operator = extensions.get("serviceTaskOperator") or {}
        try:
            retry = retry_policy(self.node)
        except RetryProblem as err:
            raise ValidationException(str(err), node=self.node, file_name=self.filename) from err
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            operation_name=operator.get("name", ""),
            operation_params=operator.get("parameters", {}),
            result_variable=operator.get("resultVariable", ""),
            retry=retry,
            output_targets=output_targets(self.node),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class DecisionTaskParser(BusinessRuleTaskParser):  # type: ignore[misc]
    """Business rule tasks name their decision the Spiff way or the Camunda way."""

    def create_task(self) -> Any:
        zeebe = self.node.find(f"{{{BPMN_NS}}}extensionElements/{{{ZEEBE_NS}}}calledDecision")
        decision_ref = (self.get_decision_ref(self.node) or self.node.get(f"{{{CAMUNDA_NS}}}decisionRef")
                        or (zeebe.get("decisionId") if zeebe is not None else None))
        if not decision_ref:
            raise ValidationException(
                "A business rule task must name its decision "
                "(spiffworkflow:calledDecisionId, camunda:decisionRef or zeebe:calledDecision)",
                node=self.node,
                file_name=self.filename,
            )
        extensions = self.parse_extensions()
        return BusinessRuleTask(
            self.spec,
            self.bpmn_id,
            dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class EngineProcessParser(HookedProcessParser):
    """Indexes the BPMN elements of a process, and only those.

    SpiffWorkflow 3.2 indexes every element with an id anywhere under the process and
    takes any tag ending in "sequenceFlow" for a flow (likewise boundary events and data
    references), whatever its namespace: an extension's ``<x:sequenceFlow>`` became a
    flow no modeler shows, which the engine followed, and an extension element with a
    task's id stood in for the task.
    """

    def index_process_nodes(self) -> None:
        """Index only BPMN elements, by their BPMN tag."""
        for node in self.node.iterdescendants(f"{{{BPMN_NS}}}*"):
            node_id = node.get("id")
            if node_id is None:
                continue
            self.nodes_by_id[node_id] = node
            kind = etree.QName(node).localname
            if kind == "sequenceFlow":
                self.outgoing_sequence_flows.setdefault(node.get("sourceRef"), []).append(node)
            elif kind == "boundaryEvent":
                self.boundary_events_by_attached.setdefault(node.get("attachedToRef"), []).append(node)
            elif kind == "dataObjectReference":
                self.data_object_references[node_id] = node
            elif kind == "dataStoreReference":
                self.data_store_references[node_id] = node


class EngineParser(SpiffBpmnParser):  # type: ignore[misc]
    """The parser every deployment goes through."""

    PROCESS_PARSER_CLASS = EngineProcessParser

    # A copy, never an update: updating the base class dict would change SpiffWorkflow globally.
    # Every task parser builds bounded multi-instance activities (engine/core/multi_instance.py).
    OVERRIDE_PARSER_CLASSES = {  # noqa: RUF012 - SpiffWorkflow reads this class attribute
        tag: (bounded(parser), spec) for tag, (parser, spec) in {
            **SpiffBpmnParser.PARSER_CLASSES,
            **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
            full_tag("serviceTask"): (ParkingServiceTaskParser, ParkingServiceTask),
            full_tag("businessRuleTask"): (DecisionTaskParser, BusinessRuleTask),
            full_tag("startEvent"): (EventStartParser, EventStart),
            full_tag("parallelGateway"): (GatewayParser, EngineParallelGateway),
        }.items()
    }
