"""Deploying models: load safely, check, store with a content hash and a version per key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from connectors.registry import Registry
from engine import audit
from engine.bpmn.importer import import_documents, settle
from engine.bpmn.safe_xml import UnsafeXmlError, load_xml
from engine.core.bindings import UNBOUND_PREFIX
from engine.core.calls import CallRef, call_refs, version_tag
from engine.core.documents import Document
from engine.core.package import CompiledPackage, compile_package, document_kind, schema_check
from engine.core.report import Report, shown
from engine.db import limits
from engine.db.models import Deployment, DeploymentFile, ProcessDefinition
from engine.services.model_names import check_names
from engine.services.runtime import Runtime
from engine.settings import Settings
from forms.extract import FormDefinitionError, FormModel, task_forms
from forms.storable import unstorable_places, unstorable_text

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XML_SUFFIXES = {".bpmn", ".dmn", ".xml"}
# Operations nobody's connector runs: a person completes them through the API.
MANUAL_PREFIX = UNBOUND_PREFIX
FORM_SUFFIXES = {".json", ".form"}
CalleeResolver = Callable[[Sequence[Document], Report], list[Document]]


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: bytes


class UploadTooLarge(ValueError):
    """An upload is over the configured size cap."""


class DeploymentRejected(Exception):
    """The files cannot be deployed; `report` lists every problem."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(next((p.message for p in report.problems if p.severity == "error"), "not deployable"))


@dataclass
class LoadedPackage:
    """A compiled deployment plus what the service layer derives from its files."""

    compiled: CompiledPackage
    forms: dict[str, FormModel] = field(default_factory=dict)
    lanes: dict[str, str] = field(default_factory=dict)
    # The same deployment compiled with the callee deployments an instance was pinned to.
    variants: dict[tuple[tuple[str, int], ...], LoadedPackage] = field(default_factory=dict)

    def with_service(self, service: dict[str, Any] | None) -> LoadedPackage:
        """This package with the lane-to-agency table of its service.toml."""
        self.lanes = {str(k): str(v) for k, v in ((service or {}).get("lanes") or {}).items()}
        return self


@dataclass(frozen=True)
class DeployOutcome:
    deployment: Deployment
    definitions: list[ProcessDefinition]
    created: bool
    report: Report


def _safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    return base or "unnamed"


def _load(files: Sequence[UploadedFile], settings: Settings) -> tuple[list[Document], dict[str, bytes], Report]:
    report = Report()
    if not files:
        report.error("no files were uploaded")
    if len(files) > settings.max_files_per_deployment:
        report.error(f"{len(files)} files in one deployment; the limit is {settings.max_files_per_deployment}")
    docs: list[Document] = []
    extras: dict[str, bytes] = {}
    seen: set[str] = set()
    for upload in files:
        name = _safe_name(upload.name)
        if len(upload.content) > settings.max_upload_bytes:
            raise UploadTooLarge(f"{shown(name)}: file is {len(upload.content):,} bytes, over the limit of "
                                 f"{settings.max_upload_bytes:,} bytes")
        unfit = _file_name_problem(name)
        if unfit:
            report.error(unfit, _printable(shown(name)))
            continue
        if name in seen:
            report.error(f"two files are named '{name}'", name)
            continue
        seen.add(name)
        suffix = PurePosixPath(name).suffix.lower()
        if suffix in FORM_SUFFIXES:
            extras[name] = upload.content
            continue
        if suffix not in XML_SUFFIXES:
            report.error("only .bpmn, .dmn and form (.json, .form) files can be deployed", name)
            continue
        try:
            root = load_xml(upload.content, name=name, max_bytes=settings.max_upload_bytes,
                            max_depth=settings.max_xml_depth)
        except UnsafeXmlError as err:
            report.error(str(err).removeprefix(f"{name}: "), name)
            continue
        kind = document_kind(root)
        if kind is None:
            report.error("not a BPMN 2.0 or DMN document (unexpected root element "
                         f"'{root.tag}')", name, line=root.sourceline)
            continue
        docs.append(Document(name, kind, root))
    return docs, extras, report


def _file_name_problem(name: str) -> str | None:
    """Why `name` cannot name a stored file: too long, or with characters no column keeps."""
    if not limits.FILE_NAME.fits(name):
        return limits.FILE_NAME.too_long(name)
    if unstorable_text(name) or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "the file name holds control characters or a lone surrogate; rename the file"
    return None


def _printable(name: str) -> str:
    """`name` safe to show and to store in a report: control characters and lone surrogates escaped."""
    escaped = "".join(f"\\x{ord(c):02x}" if ord(c) < 32 or ord(c) == 127 else c for c in name)
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")


def _forms(docs: Sequence[Document], extras: dict[str, bytes], report: Report) -> dict[str, FormModel]:
    found: dict[str, FormModel] = {}
    for doc in docs:
        if doc.kind != "bpmn":
            continue
        try:
            forms = task_forms(doc.root, extras)
        except FormDefinitionError as err:
            for element_id, line, message in err.elements or (("", None, str(err)),):
                report.error(_printable(message), doc.name, element_id, line)
            continue
        for element_id, form in forms.items():
            # Each task keeps its form in the database; JSON form files can spell any character.
            for path, problem in islice(unstorable_places(form), 1):
                where = _printable(".".join(str(p) for p in path))
                report.error(f"the form of this task holds text no database keeps ({where} {problem})", doc.name,
                             element_id, _line(doc.root, element_id))
        found.update(forms)
    return found


def _line(root: Any, element_id: str) -> int | None:
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def is_manual(operation: str) -> bool:
    """A service task nobody's connector runs: a person completes it through the API."""
    return not operation or operation.startswith(MANUAL_PREFIX)


def _bindings(compiled: CompiledPackage, registry: Registry, report: Report) -> None:
    for binding in compiled.service_bindings():
        if is_manual(binding.operation):
            report.warning("no connector is bound: the task waits until someone completes it through "
                           "POST /api/v1/service-calls/{id}/complete", element_id=binding.element_id)
            continue
        operation = registry.get(binding.operation)
        if operation is None:
            known = ", ".join(sorted(registry.operations)) or "none"
            report.error(f"no connector operation '{binding.operation}' is installed (installed: {known})",
                         element_id=binding.element_id)
            continue
        schema = operation.params_schema()
        expected, required = set(schema.get("properties", {})), set(schema.get("required", []))
        for name in sorted(set(binding.params) - expected):
            report.error(f"'{binding.operation}' takes no parameter '{name}' (it takes: {', '.join(sorted(expected))})",
                         element_id=binding.element_id)
        for name in sorted(required - set(binding.params)):
            report.error(f"'{binding.operation}' needs the parameter '{name}'", element_id=binding.element_id)
        unset = operation.unset_settings()
        if unset:
            # Deployable: the operator may configure it later. Until then its calls are incidents.
            report.warning(f"connector '{operation.connector_id}' is not configured here (set {', '.join(unset)}); "
                           "until it is, each call opens an incident", element_id=binding.element_id)


def check(files: Sequence[UploadedFile], settings: Settings,
          registry: Registry | None = None, *,
          callees: CalleeResolver | None = None,
          service: dict[str, Any] | None = None) -> tuple[LoadedPackage | None, Report]:
    """Load and compile `files` without storing anything; the report says if they deploy.

    With a connector `registry`, every service task must name an installed operation with
    the parameters it takes. `callees` finds the deployed documents that calls leaving
    the upload go to (see `resolver`); without it, such calls are errors. Every id and name
    the engine will store must fit where it is stored; `service` (the service.toml
    metadata) says which agency each lane stands for.
    """
    docs, extras, report = _load(files, settings)
    if not docs:
        return None, report
    for doc in docs:
        schema_check(doc, report)
    docs = import_documents(docs, report)
    compiled = compile_package(docs, callees=callees(docs, report) if callees else (), validate_schema=False)
    # An element the importer already refused would otherwise be reported twice, once more
    # in the compiler's words about the untranslated text.
    refused = {(p.file, p.element_id) for p in report.problems if p.severity == "error" and p.element_id}
    report.problems.extend(p for p in compiled.report.problems if (p.file, p.element_id) not in refused)
    compiled.report = report
    if registry is not None and report.deployable:
        _bindings(compiled, registry, report)
    if report.deployable:
        check_names(docs, compiled, report, lanes=LoadedPackage(compiled).with_service(service).lanes,
                    registry=registry, manual=MANUAL_PREFIX)
    forms = _forms(docs, extras, report)
    settle(report)
    if not report.deployable:
        return None, report
    return LoadedPackage(compiled, forms), report


def validate(runtime: Runtime, files: Sequence[UploadedFile]) -> Report:
    """The report `deploy` would give for `files`, storing nothing.

    Calls to processes deployed earlier resolve as they would on deploy.
    """
    with runtime.reading() as session:
        _, report = check(files, runtime.settings, runtime.connectors, callees=resolver(session, runtime))
    return report


def content_hash(files: Sequence[UploadedFile], service: dict[str, Any] | None = None) -> str:
    """Same files (by name and bytes, in any order) and service metadata give the same hash."""
    digest = hashlib.sha256()
    for name, blob in sorted((_safe_name(f.name), hashlib.sha256(f.content).hexdigest()) for f in files):
        digest.update(f"{name}\0{blob}\n".encode())
    if service:
        digest.update(json.dumps(service, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _kind(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return "form" if suffix in FORM_SUFFIXES else ("dmn" if suffix == ".dmn" else "bpmn")


def deploy(session: Session, runtime: Runtime, files: Sequence[UploadedFile], actor: str, *,
           name: str | None = None, service: dict[str, Any] | None = None) -> DeployOutcome:
    """Store `files` as a new deployment, or return the one that already has this content.

    Raises:
        DeploymentRejected: the files are not deployable; nothing was stored.
        UploadTooLarge: a file is over the size cap.
    """
    loaded, report = check(files, runtime.settings, runtime.connectors, callees=resolver(session, runtime),
                           service=service)
    if loaded is None:
        raise DeploymentRejected(report)
    digest = content_hash(files, service)
    existing = session.execute(
        select(Deployment).where(Deployment.content_hash == digest).options(selectinload(Deployment.definitions))
    ).scalar_one_or_none()
    if existing is not None:
        return DeployOutcome(existing, list(existing.definitions), False, report)
    shown_name = limits.DEPLOYMENT_NAME.shortened(name or _safe_name(files[0].name))
    deployment = Deployment(content_hash=digest, name=shown_name, deployed_by=actor, report=report.as_dict(),
                            service=service)
    session.add(deployment)
    session.flush()
    for upload in files:
        upload_name = _safe_name(upload.name)
        session.add(DeploymentFile(deployment_id=deployment.id, name=upload_name, kind=_kind(upload_name),
                                   sha256=hashlib.sha256(upload.content).hexdigest(), content=upload.content))
    definitions = []
    for key, info in loaded.compiled.processes.items():
        if not info.executable:
            continue
        latest = session.execute(
            select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)
        ).scalar_one()
        definition = ProcessDefinition(deployment_id=deployment.id, key=key,
                                       name=limits.PROCESS_NAME.shortened(info.name), version=(latest or 0) + 1)
        session.add(definition)
        definitions.append(definition)
    session.flush()
    audit.append(session, actor, "deployment.created", subject=str(deployment.id), detail={
        "content_hash": digest, "files": sorted(_safe_name(f.name) for f in files),
        "processes": {d.key: d.version for d in definitions}})
    runtime.packages.get(deployment.id, lambda: loaded.with_service(service))
    return DeployOutcome(deployment, definitions, True, report)


def package_of(session: Session, runtime: Runtime, deployment_id: int) -> LoadedPackage:
    """The compiled package of a stored deployment (cached)."""

    def build() -> LoadedPackage:
        rows = session.execute(
            select(DeploymentFile).where(DeploymentFile.deployment_id == deployment_id).order_by(DeploymentFile.id)
        ).scalars().all()
        service = session.execute(select(Deployment.service).where(Deployment.id == deployment_id)).scalar_one()
        loaded, report = check([UploadedFile(r.name, r.content) for r in rows], runtime.settings,
                               callees=resolver(session, runtime), service=service)
        if loaded is None:
            raise DeploymentRejected(report)
        return loaded.with_service(service)

    package: LoadedPackage = runtime.packages.get(deployment_id, build)
    return package


def _deployment_documents(session: Session, runtime: Runtime, deployment_id: int) -> tuple[list[Document],
                                                                                             dict[str, bytes]]:
    """A stored deployment's documents as the importer leaves them, and its form files."""
    rows = session.execute(
        select(DeploymentFile).where(DeploymentFile.deployment_id == deployment_id).order_by(DeploymentFile.id)
    ).scalars().all()
    docs, extras, _ = _load([UploadedFile(r.name, r.content) for r in rows], runtime.settings)
    return import_documents(docs, Report()), extras


def _callee_deployment(session: Session, ref: CallRef, documents: Callable[[int], list[Document]]) -> int | None:
    query = select(ProcessDefinition.deployment_id, ProcessDefinition.version).where(
        ProcessDefinition.key == ref.key).order_by(ProcessDefinition.version.desc())
    if ref.binding == "version":
        query = query.where(ProcessDefinition.version == ref.version)
    for deployment_id, _ in session.execute(query).all():
        if ref.binding != "versionTag" or version_tag(documents(deployment_id), ref.key) == ref.version_tag:
            return int(deployment_id)
    return None


def resolve_calls(session: Session, runtime: Runtime, docs: Sequence[Document],
                  report: Report | None = None) -> dict[str, int]:
    """The deployment each process called from `docs`, and from what those call in turn, runs from.

    Calls to a process of the same upload stay inside it. A key no deployment satisfies is
    left out (the compiler reports it). One instance can hold one version of each called
    process: two calls that pin the same key to different deployments go to `report`.
    """
    loaded: dict[int, list[Document]] = {}

    def documents(deployment_id: int) -> list[Document]:
        if deployment_id not in loaded:
            loaded[deployment_id] = _deployment_documents(session, runtime, deployment_id)[0]
        return loaded[deployment_id]

    def keys(current: Sequence[Document]) -> set[str | None]:
        return {node.get("id") for d in current if d.kind == "bpmn" for node in d.root.iter(f"{{{BPMN}}}process")}

    bindings: dict[str, int] = {}
    top = keys(docs)
    pending = [list(docs)]
    while pending:
        current = pending.pop(0)
        own = keys(current)
        for ref in call_refs(current):
            # A call back into the upload (a callee calling its caller) runs the upload's copy.
            if ref.key in own or ref.key in top or ref.binding == "deployment":
                continue
            found = _callee_deployment(session, ref, documents)
            if found is None:
                continue
            if ref.key in bindings:
                if bindings[ref.key] != found and report is not None:
                    report.error(f"calls {ref.describe()} (deployment {found}), but another call activity already "
                                 f"runs '{ref.key}' from deployment {bindings[ref.key]}; one instance can run only "
                                 "one version of a called process", ref.file, ref.element_id, ref.line)
                continue
            if found not in bindings.values():
                pending.append(documents(found))
            bindings[ref.key] = found
    return bindings


def resolver(session: Session, runtime: Runtime) -> CalleeResolver:
    """A `check` callee finder that resolves against what is deployed now."""

    def find(docs: Sequence[Document], report: Report) -> list[Document]:
        bindings = resolve_calls(session, runtime, docs, report)
        return [doc for deployment_id in sorted(set(bindings.values()))
                for doc in _deployment_documents(session, runtime, deployment_id)[0]]

    return find


def bound_package(session: Session, runtime: Runtime, deployment_id: int,
                  bindings: dict[str, int] | None) -> LoadedPackage:
    """A deployment compiled with exactly the callee deployments in `bindings` (cached).

    An instance keeps the callees it was started with: its subprocess specs must be the same
    every time its state is restored, whatever has been deployed since.

    Raises:
        DeploymentRejected: the pinned callees no longer compile together with the deployment.
    """
    base = package_of(session, runtime, deployment_id)
    if not bindings:
        return base
    key = tuple(sorted(bindings.items()))
    if key not in base.variants:
        callee_docs: list[Document] = []
        forms, lanes = dict(base.forms), dict(base.lanes)
        for callee in sorted(set(bindings.values())):
            docs, extras = _deployment_documents(session, runtime, callee)
            callee_docs += docs
            service = session.execute(select(Deployment.service).where(Deployment.id == callee)).scalar_one()
            # The caller's own tasks keep their forms and lanes; the callee brings those of its tasks.
            forms = {**_forms(docs, extras, Report()), **forms}
            lanes = {**LoadedPackage(base.compiled).with_service(service).lanes, **lanes}
        compiled = compile_package(list(base.compiled.documents), callees=callee_docs, validate_schema=False)
        if not compiled.report.deployable:
            raise DeploymentRejected(compiled.report)
        base.variants[key] = LoadedPackage(compiled, forms, lanes)
    return base.variants[key]
