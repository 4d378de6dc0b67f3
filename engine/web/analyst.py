"""The analyst console: upload models, read the compatibility report, deploy, look back.

Checked files wait on the server between "Check" and "Deploy" (see `Staging`), so the
analyst deploys exactly the bytes whose report they read, without uploading them again.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from engine.core.report import STATUS_ORDER
from engine.security.principals import Principal
from engine.services import access, deployment_history, deployments
from engine.services.access import Audience
from engine.services.deployments import DeploymentRejected, UploadedFile, UploadTooLarge
from engine.services.errors import NotFound
from engine.web.audience import audience
from engine.web.page_context import FormDep, Page, PageDep
from engine.web.signin import sign_in_with_token, within

router = APIRouter(include_in_schema=False)
STAGING_TTL_SECONDS = 3600
STAGING_ID = re.compile(r"[A-Za-z0-9_-]{22}")
SLUGS = {status.replace(" ", "-"): status for status in STATUS_ORDER}
MEGABYTE = 1024 * 1024


class UploadRefused(ValueError):
    """The upload form was sent with no files, too many or too large; `key` names the message."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params
        super().__init__(key)


@dataclass(frozen=True)
class Staging:
    """Uploaded files kept for a short while under `var/analyst-uploads/<random id>/`.

    Files are stored by position, never under the name the browser sent; the manifest keeps
    the names and who uploaded them, and `access.may_use_staged` says who can read or deploy them.
    """

    root: Path

    def put(self, owner: Principal, files: Sequence[UploadedFile]) -> str:
        self.sweep()
        staging_id = secrets.token_urlsafe(16)
        partial = self.root / f".{staging_id}"
        partial.mkdir(parents=True)
        for index, upload in enumerate(files):
            (partial / str(index)).write_bytes(upload.content)
        manifest = {"owner": owner.actor, "created": time.time(), "names": [f.name for f in files]}
        (partial / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        partial.rename(self.root / staging_id)  # whole or not at all: a reader never sees half a set
        return staging_id

    def get(self, reader: Principal, staging_id: str) -> list[UploadedFile]:
        """The files of `staging_id`; NotFound when unknown, expired or not `reader`'s to use."""
        folder = self.root / staging_id
        if not STAGING_ID.fullmatch(staging_id) or not (folder / "manifest.json").is_file():
            raise NotFound(staging_id)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        expired = time.time() - manifest["created"] > STAGING_TTL_SECONDS
        if expired or not access.may_use_staged(reader, manifest["owner"]):
            raise NotFound(staging_id)
        return [UploadedFile(name, (folder / str(i)).read_bytes()) for i, name in enumerate(manifest["names"])]

    def drop(self, staging_id: str) -> None:
        if STAGING_ID.fullmatch(staging_id):
            shutil.rmtree(self.root / staging_id, ignore_errors=True)

    def sweep(self) -> None:
        """Forget sets older than the time limit, so checked-but-never-deployed files do not pile up."""
        if not self.root.is_dir():
            return
        cutoff = time.time() - STAGING_TTL_SECONDS
        for folder in self.root.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


def _staging(page: Page) -> Staging:
    return Staging(page.runtime.settings.var_dir / "analyst-uploads")


def _read_uploads(page: Page, posted: Any) -> list[UploadedFile]:
    sent = [f for f in posted.getlist("files") if isinstance(f, UploadFile)]
    try:
        return _read(page, [f for f in sent if f.filename])
    finally:
        # The framework spools uploads to temporary files; close them now, not at garbage collection.
        for upload in sent:
            upload.file.close()


def _read(page: Page, chosen: list[UploadFile]) -> list[UploadedFile]:
    settings = page.runtime.settings
    if not chosen:
        raise UploadRefused("analyst.no_files")
    if len(chosen) > settings.max_files_per_deployment:
        raise UploadRefused("analyst.too_many_files", count=settings.max_files_per_deployment)
    read = []
    for upload in chosen:
        # Kept whole: a name no column keeps is reported by the deploy check, not cut here.
        name = PurePosixPath(str(upload.filename).replace("\\", "/")).name or "unnamed"
        content = upload.file.read(settings.max_upload_bytes + 1)
        if len(content) > settings.max_upload_bytes:
            raise UploadRefused("analyst.too_large", name=name, size=_megabytes(settings.max_upload_bytes))
        read.append(UploadedFile(name, content))
    return read


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:g}"


def report_view(report: dict[str, Any], names: Sequence[tuple[str, str]], status: str | None) -> dict[str, Any]:
    """What the report templates show: problems by severity, files, counts, elements filtered by `status`.

    `report` is `Report.as_dict()` as checked now or as stored with a deployment (older
    stored reports have no files or elements); `names` are the (file, kind) actually held.
    """
    elements = [{**e, "slug": str(e.get("status", "")).replace(" ", "-")} for e in report.get("elements") or []]
    counts = {slug: sum(1 for e in elements if e["slug"] == slug) for slug in SLUGS}
    problems = report.get("problems") or []
    described = {f["file"]: f for f in report.get("files") or []}
    files = [described.get(name) or {"file": name, "kind": kind} for name, kind in names]
    files += [info for name, info in described.items() if name not in {n for n, _ in names}]
    chosen = status if status in SLUGS else None
    return {"deployable": bool(report.get("deployable")), "counts": counts, "total": len(elements),
            "errors": [p for p in problems if p.get("severity") == "error"],
            "warnings": [p for p in problems if p.get("severity") != "error"],
            "files": files, "status": chosen,
            "elements": [e for e in elements if chosen is None or e["slug"] == chosen]}


def _kinds(files: Sequence[UploadedFile]) -> list[tuple[str, str]]:
    """Each file with its suffix: what the browser sent, until the importer describes it."""
    return [(f.name, PurePosixPath(f.name).suffix.lower().lstrip(".")) for f in files]


def _home(page: Page, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    with page.runtime.reading() as session:
        rows, names = deployment_history.recent(session)
    settings = page.runtime.settings
    return page.render("analyst_home.html", status=status, errors=errors or {}, deployments=rows, names=names,
                       max_files=settings.max_files_per_deployment, max_size=_megabytes(settings.max_upload_bytes))


def _report(page: Page, staging_id: str, files: Sequence[UploadedFile], status: str | None,
            report: dict[str, Any] | None = None, code: int = 200) -> Response:
    if report is None:
        report = deployments.validate(page.runtime, files).as_dict()
    return page.render("analyst_report.html", status=code, staging_id=staging_id, attempted=code != 200,
                       report=report_view(report, _kinds(files), status))


def _deploy(page: Page, principal: Principal, staging_id: str, files: Sequence[UploadedFile]) -> Response:
    try:
        with page.runtime.unit_of_work() as session:
            # Named after the first process model rather than whichever file came first.
            name = next((f.name for f in files if PurePosixPath(f.name).suffix.lower() == ".bpmn"), None)
            outcome = deployments.deploy(session, page.runtime, files, principal.actor, name=name)
            deployment_id = outcome.deployment.id
    except DeploymentRejected as rejected:
        return _report(page, staging_id, files, None, rejected.report.as_dict(), code=422)
    _staging(page).drop(staging_id)
    return page.redirect(f"/analyst/deployments/{deployment_id}?deployed={'new' if outcome.created else 'existing'}")


@router.get("/analyst/sign-in", **audience(Audience.ANYONE))
def analyst_sign_in_form(page: PageDep, next: str = "/analyst") -> Response:
    return page.render("token_sign_in.html", area="analyst", error=None, next=within(next, Audience.CONSOLE))


@router.post("/analyst/sign-in", **audience(Audience.ANYONE))
def analyst_sign_in(page: PageDep, posted: FormDep) -> Response:
    target = within(str(posted.get("next", "")), Audience.CONSOLE)
    if sign_in_with_token(page, str(posted.get("token", "")), Audience.CONSOLE) is None:
        return page.render("token_sign_in.html", area="analyst", status=422, next=target,
                           error=page.t("analyst.token_invalid"))
    return page.redirect(target)


@router.get("/analyst", **audience(Audience.CONSOLE))
def console(page: PageDep) -> Response:
    return _home(page)


@router.post("/analyst/uploads", **audience(Audience.CONSOLE, back="/analyst"))
def upload(page: PageDep, posted: FormDep) -> Response:
    """Check or deploy the chosen files; both keep them, so the report's "Deploy" can follow."""
    principal = page.visitor
    try:
        files = _read_uploads(page, posted)
    except UploadRefused as refused:
        code = 413 if refused.key == "analyst.too_large" else 422
        # A file name is shown as sent: only the numbers of the message take Persian digits.
        named = {k: "{" + k + "}" if k == "name" else v for k, v in refused.params.items()}
        message = page.t(refused.key, **named).replace("{name}", str(refused.params.get("name", "")))
        return _home(page, code, {"files": message})
    staging_id = _staging(page).put(principal, files)
    if posted.get("action") == "deploy":
        return _deploy(page, principal, staging_id, files)
    return page.redirect(f"/analyst/uploads/{staging_id}")


@router.get("/analyst/uploads/{staging_id}", **audience(Audience.CONSOLE))
def checked(page: PageDep, staging_id: str, status: str | None = None) -> Response:
    files = _staging(page).get(page.visitor, staging_id)
    try:
        return _report(page, staging_id, files, status)
    except UploadTooLarge as too_large:  # the size cap was lowered since the files were kept
        return _home(page, 413, {"files": str(too_large)})


@router.post("/analyst/uploads/{staging_id}/deploy",
             **audience(Audience.CONSOLE, back="/analyst/uploads/{staging_id}"))
def deploy_checked(page: PageDep, _: FormDep, staging_id: str) -> Response:
    principal = page.visitor
    return _deploy(page, principal, staging_id, _staging(page).get(principal, staging_id))


@router.get("/analyst/deployments/{deployment_id}", **audience(Audience.CONSOLE))
def deployment(page: PageDep, deployment_id: int, status: str | None = None, deployed: str = "") -> Response:
    with page.runtime.reading() as session:
        row, files = deployment_history.described(session, deployment_id)
    view = report_view(row.report or {}, [(f.name, f.kind) for f in files], status)
    return page.render("analyst_deployment.html", deployment=row, files=files, report=view,
                       deployed=deployed if deployed in ("new", "existing") else "")
