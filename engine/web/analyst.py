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
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from starlette.datastructures import UploadFile

from engine.core.report import STATUS_ORDER
from engine.db.models import Deployment, DeploymentFile
from engine.security.principals import Principal, Role
from engine.services import deployments
from engine.services.deployments import DeploymentRejected, UploadedFile, UploadTooLarge
from engine.services.errors import NotFound
from engine.web.context import FormDep, Page, PageDep, safe_next
from engine.web.signin import sign_in_with_token

router = APIRouter(include_in_schema=False)
DEPLOYERS = (Role.ANALYST, Role.ADMIN)
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
    the names and who uploaded them, and only that person can read or deploy them.
    """

    root: Path

    def put(self, owner: str, files: Sequence[UploadedFile]) -> str:
        self.sweep()
        staging_id = secrets.token_urlsafe(16)
        partial = self.root / f".{staging_id}"
        partial.mkdir(parents=True)
        for index, upload in enumerate(files):
            (partial / str(index)).write_bytes(upload.content)
        manifest = {"owner": owner, "created": time.time(), "names": [f.name for f in files]}
        (partial / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        partial.rename(self.root / staging_id)  # whole or not at all: a reader never sees half a set
        return staging_id

    def get(self, owner: str, staging_id: str) -> list[UploadedFile]:
        """The files of `staging_id`; NotFound when unknown, expired or someone else's."""
        folder = self.root / staging_id
        if not STAGING_ID.fullmatch(staging_id) or not (folder / "manifest.json").is_file():
            raise NotFound(staging_id)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest["owner"] != owner or time.time() - manifest["created"] > STAGING_TTL_SECONDS:
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


def _analyst(page: Page) -> Principal | None:
    principal = page.principal
    return principal if principal is not None and principal.role in DEPLOYERS else None


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
        name = PurePosixPath(str(upload.filename).replace("\\", "/")).name[:255] or "unnamed"
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
        rows = list(session.execute(
            select(Deployment).order_by(Deployment.id.desc()).limit(200)
            .options(selectinload(Deployment.definitions))).scalars())
        names: dict[int, list[str]] = {}
        for deployment_id, name in session.execute(
                select(DeploymentFile.deployment_id, DeploymentFile.name)
                .where(DeploymentFile.deployment_id.in_([d.id for d in rows])).order_by(DeploymentFile.id)):
            names.setdefault(deployment_id, []).append(name)
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


@router.get("/analyst/sign-in")
def analyst_sign_in_form(page: PageDep, next: str = "/analyst") -> Response:
    return page.render("token_sign_in.html", area="analyst", error=None, next=_within(next))


@router.post("/analyst/sign-in")
def analyst_sign_in(page: PageDep, posted: FormDep) -> Response:
    target = _within(str(posted.get("next", "")))
    if sign_in_with_token(page, str(posted.get("token", "")), DEPLOYERS) is None:
        return page.render("token_sign_in.html", area="analyst", status=422, next=target,
                           error=page.t("analyst.token_invalid"))
    return page.redirect(target)


def _within(target: str) -> str:
    """Back to a console page after signing in, and nowhere else."""
    safe = safe_next(target, "/analyst")
    return safe if safe == "/analyst" or safe.startswith("/analyst/") else "/analyst"


def _signed_out(page: Page) -> Response:
    current = page.request.url.path + (f"?{page.request.url.query}" if page.request.url.query else "")
    return page.redirect(f"/analyst/sign-in?next={quote(current)}" if current != "/analyst" else "/analyst/sign-in")


@router.get("/analyst")
def console(page: PageDep) -> Response:
    if _analyst(page) is None:
        return _signed_out(page)
    return _home(page)


@router.post("/analyst/uploads")
def upload(page: PageDep, posted: FormDep) -> Response:
    """Check or deploy the chosen files; both keep them, so the report's "Deploy" can follow."""
    principal = _analyst(page)
    if principal is None:
        return page.redirect("/analyst/sign-in")
    try:
        files = _read_uploads(page, posted)
    except UploadRefused as refused:
        code = 413 if refused.key == "analyst.too_large" else 422
        # A file name is shown as sent: only the numbers of the message take Persian digits.
        named = {k: "{" + k + "}" if k == "name" else v for k, v in refused.params.items()}
        message = page.t(refused.key, **named).replace("{name}", str(refused.params.get("name", "")))
        return _home(page, code, {"files": message})
    staging_id = _staging(page).put(principal.actor, files)
    if posted.get("action") == "deploy":
        return _deploy(page, principal, staging_id, files)
    return page.redirect(f"/analyst/uploads/{staging_id}")


@router.get("/analyst/uploads/{staging_id}")
def checked(page: PageDep, staging_id: str, status: str | None = None) -> Response:
    principal = _analyst(page)
    if principal is None:
        return _signed_out(page)
    files = _staging(page).get(principal.actor, staging_id)
    try:
        return _report(page, staging_id, files, status)
    except UploadTooLarge as too_large:  # the size cap was lowered since the files were kept
        return _home(page, 413, {"files": str(too_large)})


@router.post("/analyst/uploads/{staging_id}/deploy")
def deploy_checked(page: PageDep, _: FormDep, staging_id: str) -> Response:
    principal = _analyst(page)
    if principal is None:
        return page.redirect("/analyst/sign-in")
    return _deploy(page, principal, staging_id, _staging(page).get(principal.actor, staging_id))


@router.get("/analyst/deployments/{deployment_id}")
def deployment(page: PageDep, deployment_id: int, status: str | None = None, deployed: str = "") -> Response:
    if _analyst(page) is None:
        return _signed_out(page)
    with page.runtime.reading() as session:
        row = session.execute(select(Deployment).where(Deployment.id == deployment_id)
                              .options(selectinload(Deployment.definitions))).scalar_one_or_none()
        if row is None:
            raise NotFound(str(deployment_id))
        files = session.execute(
            select(DeploymentFile.name, DeploymentFile.kind, DeploymentFile.sha256,
                   func.length(DeploymentFile.content).label("size"))
            .where(DeploymentFile.deployment_id == deployment_id).order_by(DeploymentFile.id)).all()
    view = report_view(row.report or {}, [(f.name, f.kind) for f in files], status)
    return page.render("analyst_deployment.html", deployment=row, files=files, report=view,
                       deployed=deployed if deployed in ("new", "existing") else "")
