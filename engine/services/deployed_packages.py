"""Deployed packages: what a deployment runs, read back from the database, compiled and cached.

A deployment keeps the importer's translation of its files and its form models (see
`deployments`); this module compiles exactly those, never the upload, for every start,
restore and worker, and binds them to the deployments their call activities reach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.translated import StoredDocumentError, restored
from engine.core.calls import CallRef, call_refs, version_tag
from engine.core.documents import Document
from engine.core.package import compile_package
from engine.core.report import Report
from engine.db.models import Deployment, DeploymentFile, ProcessDefinition
from engine.services.package_cache import LoadedPackage
from engine.services.runtime import Runtime
from forms.extract import FormModel

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CalleeResolver = Callable[[Sequence[Document], Report], list[Document]]


class DeploymentRejected(Exception):
    """The files cannot be deployed; `report` lists every problem."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(next((p.message for p in report.problems if p.severity == "error"), "not deployable"))


@dataclass(frozen=True)
class StoredDeployment:
    """What a deployment runs, read back from the database: never imported again."""

    documents: list[Document]
    forms: dict[str, FormModel]
    service: dict[str, Any] | None
    translated: dict[str, bytes]


def stored(session: Session, deployment_id: int) -> StoredDeployment:
    """A deployment's translated documents (fresh trees: compiling completes them in place) and forms.

    Raises:
        DeploymentRejected: a file's translation is missing or unreadable (a deployment that an
            upgrade could not translate); the report names the file.
    """
    service, forms = session.execute(
        select(Deployment.service, Deployment.forms).where(Deployment.id == deployment_id)).one()
    rows = session.execute(
        select(DeploymentFile.name, DeploymentFile.translated)
        .where(DeploymentFile.deployment_id == deployment_id, DeploymentFile.kind != "form")
        .order_by(DeploymentFile.id)).all()
    documents = []
    for name, translated in rows:
        try:
            documents.append(restored(name, translated))
        except StoredDocumentError as err:
            report = Report()
            report.error(f"{err}; redeploy the upload to translate it again", name)
            raise DeploymentRejected(report) from err
    return StoredDeployment(documents, dict(forms or {}), service,
                            {name: translated for name, translated in rows if translated is not None})


def package_of(session: Session, runtime: Runtime, deployment_id: int) -> LoadedPackage:
    """The compiled package of a stored deployment (cached), compiled from its stored translation.

    Calls to processes in other deployments compile against what is deployed now; an instance
    pins the ones it started with (see `bound_package`).

    Raises:
        DeploymentRejected: the stored documents no longer compile (with what they call).
    """

    def build() -> LoadedPackage:
        kept = stored(session, deployment_id)
        report = Report()
        callees = resolver(session)(kept.documents, report)
        # The schema was checked when the upload was translated; the stored trees are that result.
        compiled = compile_package(kept.documents, callees=callees, validate_schema=False)
        report.problems.extend(compiled.report.problems)
        compiled.report = report
        if not report.deployable:
            raise DeploymentRejected(report)
        return LoadedPackage(compiled, kept.forms, translated=kept.translated).with_service(kept.service)

    return runtime.packages.get(deployment_id, build)


def _callee_deployment(session: Session, ref: CallRef, documents: Callable[[int], list[Document]]) -> int | None:
    query = select(ProcessDefinition.deployment_id, ProcessDefinition.version).where(
        ProcessDefinition.key == ref.key).order_by(ProcessDefinition.version.desc())
    if ref.binding == "version":
        query = query.where(ProcessDefinition.version == ref.version)
    for deployment_id, _ in session.execute(query).all():
        if ref.binding != "versionTag" or version_tag(documents(deployment_id), ref.key) == ref.version_tag:
            return int(deployment_id)
    return None


def resolve_calls(session: Session, docs: Sequence[Document], report: Report | None = None) -> dict[str, int]:
    """The deployment each process called from `docs`, and from what those call in turn, runs from.

    Calls to a process of the same upload stay inside it. A key no deployment satisfies is
    left out (the compiler reports it). One instance can hold one version of each called
    process: two calls that pin the same key to different deployments go to `report`.
    """
    loaded: dict[int, list[Document]] = {}

    def documents(deployment_id: int) -> list[Document]:
        if deployment_id not in loaded:
            loaded[deployment_id] = stored(session, deployment_id).documents
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


def resolver(session: Session) -> CalleeResolver:
    """A `check` callee finder that resolves against what is deployed now, as it was stored."""

    def find(docs: Sequence[Document], report: Report) -> list[Document]:
        bindings = resolve_calls(session, docs, report)
        return [doc for deployment_id in sorted(set(bindings.values()))
                for doc in stored(session, deployment_id).documents]

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
            kept = stored(session, callee)
            callee_docs += kept.documents
            # The caller's own tasks keep their forms and lanes; the callee brings those of its tasks.
            forms = {**kept.forms, **forms}
            lanes = {**LoadedPackage(base.compiled).with_service(kept.service).lanes, **lanes}
        compiled = compile_package(list(base.compiled.documents), callees=callee_docs, validate_schema=False)
        if not compiled.report.deployable:
            raise DeploymentRejected(compiled.report)
        base.variants[key] = LoadedPackage(compiled, forms, lanes, translated=base.translated)
    return base.variants[key]
