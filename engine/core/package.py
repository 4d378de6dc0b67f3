"""Compiling a set of BPMN and DMN documents into runnable process specs, with a report.

A package is what one deployment holds: one or more BPMN files (call activities resolve
inside it) and the DMN tables they use. Compilation never raises on a bad model: every
problem lands in the report with its file, element id and line, so the analyst can fix
them all in one round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD

from engine.core.calls import call_refs, name_zeebe_callees
from engine.core.checks import check_model
from engine.core.dmn_checks import check_decision_ids, check_decisions
from engine.core.documents import Document, DocumentKind
from engine.core.errors import UnknownProcessError
from engine.core.parser import EngineParser, ParkingServiceTask
from engine.core.report import Report, shown
from engine.core.vocabulary import misplaced_elements

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Schema findings listed per document: enough to fix a model in one round, while a
# hostile upload cannot make a report of one line per element.
_MOST_LISTED = 50
@dataclass(frozen=True)
class ProcessInfo:
    """A process the package offers."""

    key: str
    name: str
    executable: bool


@dataclass(frozen=True)
class ServiceBinding:
    """A service task's operation and the parameter names it declares."""

    element_id: str
    operation: str
    params: tuple[str, ...]


@dataclass
class CompiledPackage:
    """Runnable specs for every process of one deployment."""

    parser: Any
    processes: dict[str, ProcessInfo]
    report: Report
    _specs: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)
    documents: tuple[Document, ...] = ()
    callees: tuple[Document, ...] = ()

    def spec(self, key: str) -> tuple[Any, dict[str, Any]]:
        """The top-level spec of process `key` and the specs of everything it calls."""
        if key not in self._specs:
            if key not in self.processes:
                raise UnknownProcessError(f"no process '{key}' in this deployment")
            self._specs[key] = (self.parser.get_spec(key), self.parser.get_subprocess_specs(key))
        return self._specs[key]


    def service_bindings(self) -> list[ServiceBinding]:
        """Every service task of every executable process: which operation, with which parameters."""
        found: dict[str, ServiceBinding] = {}
        for key, info in self.processes.items():
            if not info.executable:
                continue
            spec, subprocesses = self.spec(key)
            for process in (spec, *subprocesses.values()):
                for task in process.task_specs.values():
                    if isinstance(task, ParkingServiceTask):
                        found[task.bpmn_id] = ServiceBinding(task.bpmn_id, task.operation_name or "",
                                                             tuple(task.operation_params or {}))
        return list(found.values())

    def start_events(self, key: str) -> list[str]:
        """Element ids of the start events of process `key` (their forms ask the start data)."""
        spec, _ = self.spec(key)
        return [event.bpmn_id for event in spec.bpmn_start_events]


def document_kind(root: etree._Element) -> DocumentKind | None:
    """BPMN, DMN, or neither, judged by the root element's namespace."""
    if root.tag == f"{{{BPMN_NS}}}definitions":
        return "bpmn"
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname == "definitions" and namespace in DMN_SCHEMAS:
        return "dmn"
    return None


@cache
def _bpmn_schema() -> BpmnValidator:
    return BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})


@cache
def _dmn_schema(namespace: str) -> BpmnValidator | None:
    try:
        return BpmnValidator(DMN_SCHEMAS[namespace])
    except etree.XMLSchemaParseError:
        # SpiffWorkflow's DMN 1.2 schema imports its DMNDI namespace from a file declaring
        # another one, so lxml cannot compile it; placement is still judged from the files.
        return None


def schema_check(doc: Document, report: Report) -> None:
    """Report where `doc` departs from the BPMN or DMN schema.

    An element the schema does not allow where it stands is an error (see `vocabulary`):
    the engine would skip it, or read something else than what was drawn. The rest of
    what the XSD finds are warnings, because real exports break it in ways that change
    nothing the engine reads (allowed elements in another order, an attribute a tool
    leaves out, a required child a descriptive model has not drawn yet); the parser and
    the model checks judge what truly cannot run.
    """
    validator: BpmnValidator | None
    if doc.kind == "bpmn":
        validator = _bpmn_schema()
        # bpmn-js writes a correlation's retrieval expression as <formalExpression> where
        # the schema has <messagePath>; SpiffWorkflow renames it and reads it either way.
        validator.preprocess(doc.root)
    else:
        validator = _dmn_schema(etree.QName(doc.root).namespace or "")
    refused = misplaced_elements(doc.root, doc.kind.upper())
    for node, reason in refused[:_MOST_LISTED]:
        owner = next((a.get("id", "") for a in node.iterancestors() if a.get("id")), "")
        report.error(reason, doc.name, owner, node.sourceline)
    if len(refused) > _MOST_LISTED:
        report.error(f"and {len(refused) - _MOST_LISTED:,} more elements the {doc.kind.upper()} schema does not "
                     "allow where they stand", doc.name)
    if validator is None:
        report.warning(f"the {doc.kind.upper()} schema for {etree.QName(doc.root).namespace} cannot be compiled here: "
                       "only where each element stands was checked, not its attributes or order", doc.name)
        return
    schema: etree.XMLSchema = validator.validator
    if schema.validate(doc.root):
        return
    lines = {node.sourceline for node, _ in refused}
    for entry in [e for e in schema.error_log if e.line not in lines][:_MOST_LISTED]:
        report.warning(f"not valid against the {doc.kind.upper()} schema: {entry.message}", doc.name,
                       line=entry.line)


def _spiff_problem(err: Exception, report: Report, file: str, element_id: str = "") -> None:
    if isinstance(err, ValidationException):
        line = err.line_number if isinstance(err.line_number, int) else None
        report.error(str(err.args[0]) if err.args else str(err), err.file_name or file, err.id or "", line)
    elif isinstance(err, SpiffWorkflowException):
        report.error(str(err), file, element_id)
    else:
        # SpiffWorkflow's parser fails on some malformed models in its own ways (a KeyError,
        # a TypeError); the upload is at fault, so it is reported like any refusal.
        report.error(f"the engine cannot read this model ({type(err).__name__}: {shown(str(err))})", file,
                     element_id)


def _processes(docs: Sequence[Document]) -> dict[str, ProcessInfo]:
    found: dict[str, ProcessInfo] = {}
    for doc in docs:
        if doc.kind != "bpmn":
            continue
        for node in doc.root.iterfind(f"{{{BPMN_NS}}}process"):
            key = node.get("id", "")
            executable = node.get("isExecutable", "true").lower() != "false"
            found[key] = ProcessInfo(key, node.get("name") or key, executable)
    return found


def _check_calls(docs: Sequence[Document], callees: Sequence[Document], processes: dict[str, ProcessInfo],
                 report: Report) -> None:
    deployed = _processes(callees)
    for ref in call_refs(docs, report):
        where = (ref.file, ref.element_id, ref.line)
        if ref.key in processes:
            if ref.binding in ("version", "versionTag"):
                report.warning(f"calls {ref.describe()}, but '{ref.key}' is also in this upload: the copy "
                               "in this upload is the one that runs", *where)
        elif ref.binding == "deployment":
            report.error(f"calls process '{ref.key}' from the same deployment, but it is not in this upload; "
                         "upload its BPMN file together with this one", *where)
        elif ref.key not in deployed:
            known = ", ".join(sorted(processes)) or "none"
            report.error(f"calls {ref.describe()}, which is neither in this upload (processes here: {known}) "
                         "nor deployed; deploy it first or upload its BPMN file together with this one", *where)


def compile_package(docs: Sequence[Document], *, callees: Sequence[Document] = (),
                    validate_schema: bool = True) -> CompiledPackage:
    """Validate and parse `docs`; the returned report says whether they can be deployed.

    `callees` are the documents of other deployments that `docs` call into (already
    checked when they were deployed): they are parsed alongside, so a call activity finds
    its process, but they add no process of their own to the package.
    """
    report = Report()
    parser = EngineParser()
    name_zeebe_callees([*docs, *callees])
    for doc in docs:
        if validate_schema:
            schema_check(doc, report)
        if doc.kind == "bpmn":
            check_model(doc.root, doc.name, report)
        else:
            check_decisions(doc.root, doc.name, report)
    check_decision_ids([(d.name, d.root) for d in [*docs, *callees] if d.kind == "dmn"], report)
    for doc in docs:
        for node in doc.root.iterfind(f"{{{BPMN_NS}}}process"):
            if not (node.get("id") or "").strip():
                report.error("a process needs an id: it is how the process is started and called", doc.name,
                             line=node.sourceline)
    processes = _processes(docs)
    if not any(p.executable for p in processes.values()):
        report.error("no executable process: a deployment needs at least one bpmn:process "
                     "that is not marked isExecutable=\"false\"")
    _check_calls(docs, callees, processes, report)
    package = CompiledPackage(parser, processes, report, documents=tuple(docs), callees=tuple(callees))
    if not report.deployable:
        return package
    seen: dict[str, str] = {}
    for doc in [*docs, *callees]:
        try:
            if doc.kind == "dmn":
                parser.add_dmn_xml(doc.root, filename=doc.name)
            else:
                for key in _processes([doc]):
                    if key in seen:
                        report.error(f"process id '{key}' is defined in both {seen[key]} and {doc.name}",
                                     doc.name, key)
                    seen[key] = doc.name
                parser.add_bpmn_xml(doc.root, filename=doc.name)
        except Exception as err:  # see _spiff_problem
            _spiff_problem(err, report, doc.name)
    if not report.deployable:
        return package
    for key, info in processes.items():
        if not info.executable:
            continue
        try:
            package.spec(key)
        except Exception as err:  # see _spiff_problem
            _spiff_problem(err, report, seen.get(key, ""), key)
    return package
