"""Deploying models: load safely, check, store with a content hash and a version per key.

A deployment stores what the analyst reviewed and the engine runs: the importer's translation
of each file and the form models, with the importer's version. Every later use (starting,
restoring, a worker, a restart) compiles that stored translation and never imports the upload
again, so a changed importer reaches a deployed model only through `redeploy`, which makes a
new deployment of the same upload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from connectors.registry import Registry
from engine import audit
from engine.bpmn.importer import IMPORTER_VERSION, settle
from engine.bpmn.safe_xml import UnsafeXmlError, load_xml
from engine.bpmn.translated import serialized, translate
from engine.core.bindings import UNBOUND_PREFIX
from engine.core.documents import Document
from engine.core.package import CompiledPackage, compile_package, document_kind
from engine.core.report import Report, shown
from engine.db import limits
from engine.db.models import Deployment, DeploymentFile, ProcessDefinition
from engine.services import ledger
from engine.services.deployed_packages import (
    CalleeResolver,
    DeploymentRejected,
    bound_package,
    package_of,
    resolve_calls,
    resolver,
)
from engine.services.errors import NotFound
from engine.services.model_names import check_names
from engine.services.package_cache import LoadedPackage
from engine.services.runtime import Runtime
from engine.settings import Settings
from forms.extract import FormDefinitionError, FormModel, task_forms
from forms.storable import unstorable_places, unstorable_text

# Reading a deployment back lives in `deployed_packages`; its names stay importable from here,
# where the instance services and the adapters have always found them.
__all__ = ["MANUAL_PREFIX", "DeployOutcome", "DeploymentRejected", "LoadedPackage", "UploadTooLarge", "UploadedFile",
           "bound_package", "check", "content_hash", "deploy", "is_manual", "package_of", "redeploy",
           "resolve_calls", "resolver", "validate"]

XML_SUFFIXES = {".bpmn", ".dmn", ".xml"}
# Operations nobody's connector runs: a person completes them through the API.
MANUAL_PREFIX = UNBOUND_PREFIX
FORM_SUFFIXES = {".json", ".form"}


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: bytes


class UploadTooLarge(ValueError):
    """An upload is over the configured size cap."""


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
    metadata) says which agency each lane stands for, and its journey before Panjereh must
    fit the model's presence markings (`engine.services.ledger`).
    """
    docs, extras, report = _load(files, settings)
    if not docs:
        return None, report
    docs = translate(docs, report)
    # Kept before compiling: the compiler completes the trees in place for SpiffWorkflow.
    translated = {doc.name: serialized(doc) for doc in docs}
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
    ledger.check(docs, forms, service, report)
    settle(report)
    if not report.deployable:
        return None, report
    return LoadedPackage(compiled, forms, translated=translated), report


def validate(runtime: Runtime, files: Sequence[UploadedFile]) -> Report:
    """The report `deploy` would give for `files`, storing nothing.

    Calls to processes deployed earlier resolve as they would on deploy.
    """
    with runtime.reading() as session:
        _, report = check(files, runtime.settings, runtime.connectors, callees=resolver(session))
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
    """Store `files` as a new deployment, or return the newest one that already has this content.

    The same upload deployed again keeps running what it was translated to, even if the
    importer has changed since: only `redeploy` translates it anew.

    Raises:
        DeploymentRejected: the files are not deployable; nothing was stored.
        UploadTooLarge: a file is over the size cap.
    """
    loaded, report = check(files, runtime.settings, runtime.connectors, callees=resolver(session),
                           service=service)
    if loaded is None:
        raise DeploymentRejected(report)
    digest = content_hash(files, service)
    first = session.execute(select(Deployment.id).where(Deployment.content_hash == digest)).scalar_one_or_none()
    if first is not None:
        newest = _of_upload(session, first)[0]
        return DeployOutcome(newest, list(newest.definitions), False, report)
    shown_name = limits.DEPLOYMENT_NAME.shortened(name or _safe_name(files[0].name))
    deployment, definitions = _store(session, files, loaded, report, actor, name=shown_name, service=service,
                                     digest=digest)
    audit.append(session, actor, "deployment.created", subject=str(deployment.id), detail={
        "content_hash": digest, "files": sorted(_safe_name(f.name) for f in files),
        "processes": {d.key: d.version for d in definitions}, "importer_version": IMPORTER_VERSION})
    return DeployOutcome(deployment, definitions, True, report)


def _of_upload(session: Session, first: int) -> list[Deployment]:
    """The first deployment of an upload and its redeployments, newest first."""
    return list(session.execute(
        select(Deployment).where(or_(Deployment.id == first, Deployment.redeploy_of == first))
        .order_by(Deployment.id.desc()).options(selectinload(Deployment.definitions))
    ).scalars())


def _store(session: Session, files: Sequence[UploadedFile], loaded: LoadedPackage, report: Report, actor: str, *,
           name: str, service: dict[str, Any] | None, digest: str,
           redeploy_of: int | None = None) -> tuple[Deployment, list[ProcessDefinition]]:
    """A new deployment of `files` as `loaded` translated them, with a new version of each process."""
    deployment = Deployment(content_hash=digest, name=name, deployed_by=actor, report=report.as_dict(),
                            service=service, importer_version=IMPORTER_VERSION, forms=_as_stored(loaded.forms),
                            redeploy_of=redeploy_of)
    session.add(deployment)
    session.flush()
    for upload in files:
        upload_name = _safe_name(upload.name)
        session.add(DeploymentFile(deployment_id=deployment.id, name=upload_name, kind=_kind(upload_name),
                                   sha256=hashlib.sha256(upload.content).hexdigest(), content=upload.content,
                                   translated=loaded.translated.get(upload_name)))
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
    # Nothing is cached from `loaded`: the first use compiles what was stored, as every later
    # start, worker and restart will, so what runs is what the database holds from the start.
    return deployment, definitions


def _as_stored(forms: dict[str, FormModel]) -> dict[str, Any]:
    """Form models as a JSON column gives them back, so that stored and fresh ones compare equal."""
    stored: dict[str, Any] = json.loads(json.dumps(forms))
    return stored


def redeploy(session: Session, runtime: Runtime, deployment_id: int, actor: str) -> DeployOutcome:
    """Translate a deployment's upload again with today's importer, as a new deployment.

    This is the one way a changed importer reaches a model already deployed. Instances keep
    running the deployment they started from; new ones start from the new process versions.
    When a deployment of the same upload already holds exactly what today's importer makes,
    that deployment is returned (`created` false) and nothing is stored.

    Raises:
        NotFound: there is no such deployment.
        DeploymentRejected: today's importer or checks refuse the upload; the report says why.
    """
    source = session.get(Deployment, deployment_id) if 0 < deployment_id <= limits.MAX_INTEGER else None
    if source is None:
        raise NotFound(f"no deployment {deployment_id}")
    files = [UploadedFile(name, content) for name, content in session.execute(
        select(DeploymentFile.name, DeploymentFile.content)
        .where(DeploymentFile.deployment_id == deployment_id).order_by(DeploymentFile.id)).all()]
    loaded, report = check(files, runtime.settings, runtime.connectors, callees=resolver(session),
                           service=source.service)
    if loaded is None:
        raise DeploymentRejected(report)
    forms = _as_stored(loaded.forms)
    first = source.redeploy_of or source.id
    siblings = _of_upload(session, first)
    for sibling in siblings:
        if sibling.forms == forms and _translations(session, sibling.id) == loaded.translated:
            return DeployOutcome(sibling, list(sibling.definitions), False, report)
    # The upload's own hash names its first deployment; each redeployment adds what it runs.
    digest = hashlib.sha256(f"{siblings[-1].content_hash}\0{_translation_hash(loaded.translated, forms)}"
                            .encode()).hexdigest()
    deployment, definitions = _store(session, files, loaded, report, actor, name=source.name,
                                     service=source.service, digest=digest, redeploy_of=first)
    audit.append(session, actor, "deployment.redeployed", subject=str(deployment.id), detail={
        "from": source.id, "from_importer_version": source.importer_version, "importer_version": IMPORTER_VERSION,
        "processes": {d.key: d.version for d in definitions}})
    return DeployOutcome(deployment, definitions, True, report)


def _translations(session: Session, deployment_id: int) -> dict[str, bytes]:
    rows = session.execute(select(DeploymentFile.name, DeploymentFile.translated)
                           .where(DeploymentFile.deployment_id == deployment_id)).all()
    return {name: translated for name, translated in rows if translated is not None}


def _translation_hash(translated: dict[str, bytes], forms: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    for name, content in sorted(translated.items()):
        digest.update(f"{name}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    digest.update(json.dumps(forms, sort_keys=True).encode())
    return digest.hexdigest()
