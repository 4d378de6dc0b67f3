"""The single window: the catalogue, starting a service, the citizen's cases and tracking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from engine.core.outcomes import CaseStatus
from engine.core.statuses import InstanceStatus, TaskStatus
from engine.security.principals import Principal, Role
from engine.services import (
    access,
    casefile,
    citizen_actions,
    deadlines,
    instances,
    issued_documents,
    notifications,
    payments,
    queries,
)
from engine.services.access import Audience
from engine.services.casefile import Progress, Standing
from engine.services.catalogue import OfferedService, offered
from engine.services.document_codes import grouped
from engine.services.errors import Conflict, NotFound
from engine.services.payments import CasePayments
from engine.services.ratelimit import RateLimited, hit
from engine.services.records import DataUseRecord, InstanceRecord
from engine.services.rehearsal import run_rehearsed
from engine.services.tracking import is_valid_tracking_code
from engine.services.transaction import Transaction
from engine.web.audience import audience
from engine.web.fields import task_title
from engine.web.i18n import LANGUAGES
from engine.web.page_context import FormDep, Page, PageDep, safe_next
from engine.web.payments import panel, timeline_entries
from engine.web.session import LANG_COOKIE
from forms.identifiers import canonical_national_code, check_national_code
from forms.normalize import compact

router = APIRouter(include_in_schema=False)
TRACK_PER_HOUR = 20


def _services(page: Page) -> list[OfferedService]:
    with page.runtime.reading() as session:
        return offered(session)


@router.get("/", **audience(Audience.ANYONE))
def catalogue(page: PageDep, q: str = "") -> Response:
    services = _services(page)
    term = q.strip().lower()
    if term:
        services = [s for s in services if term in " ".join(
            str(v) for part in ("title", "description") for v in (s.meta.get(part) or {}).values()).lower()]
    return page.render("catalogue.html", services=services, q=q)


@router.get("/lang/{code}", **audience(Audience.ANYONE))
def switch_language(page: PageDep, code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        principal = page.principal
        if principal is not None and principal.role is Role.CITIZEN:
            # Their text messages follow the language they read the portal in.
            notifications.remember_language(page.runtime, principal.name, code)
    return response


def _service(page: Page, key: str) -> OfferedService:
    for service in _services(page):
        if service.key == key:
            return service
    raise NotFound(f"no service {key}")


@router.get("/services/{key}", **audience(Audience.ANYONE))
def service_start(page: PageDep, key: str) -> Response:
    return page.render("service.html", service=_service(page, key))


@router.post("/services/{key}/start", **audience(Audience.CITIZEN, back="/services/{key}"))
def start_service(page: PageDep, _: FormDep, key: str) -> Response:
    service = _service(page, key)
    with page.runtime.reading() as session:
        draft = citizen_actions.open_draft(session, page.visitor, service.key)
    if draft is not None:
        # Pressing Start again resumes the unsent application rather than opening a second case.
        return page.redirect(f"/cases/{draft}/next")

    def work(session: Transaction) -> str:
        return instances.start(session, page.runtime, page.visitor, service.key, {}).id

    return page.redirect(f"/cases/{run_rehearsed(page.runtime, work)}/next")


def _party(visitor: Principal, case: InstanceRecord) -> str | None:
    """The visitor's national code when they read someone else's case as a party to it."""
    return None if case.owner == visitor.name else visitor.name


@router.get("/cases", **audience(Audience.CITIZEN))
def my_cases(page: PageDep, deleted: int = 0) -> Response:
    services = {s.key: s.meta for s in _services(page)}
    visitor = page.visitor
    with page.runtime.reading() as session:
        # Also the cases in which someone else asks this citizen for a step (a seller's consent).
        cases = queries.list_instances(session, visitor, as_party=True)
        standings = {case.id: casefile.standing(case, casefile.progress(session, case),
                                                services.get(case.process_key, {}), party=_party(visitor, case))
                     for case in cases}
    cases = [case for case in cases if not standings[case.id].deleted]
    titles = {key: meta.get("title") for key, meta in services.items()}
    return page.render("cases.html", cases=cases, titles=titles, standings=standings, deleted=bool(deleted))


@router.get("/cases/{instance_id}/next", **audience(Audience.CITIZEN))
def next_step(page: PageDep, instance_id: str) -> Response:
    principal = page.visitor
    with page.runtime.reading() as session:
        queries.load_instance(session, principal, instance_id, as_party=True)
        ready = queries.list_tasks(session, principal, instance_id, TaskStatus.READY)
    if ready:
        return page.redirect(f"/cases/{instance_id}/tasks/{ready[0].id}/pages/0")
    return page.redirect(f"/cases/{instance_id}?submitted=1")


def timeline(page: Page, instance: InstanceRecord, progress: Progress, meta: dict[str, Any],
             standing: Standing, paying: CasePayments, party: str | None = None) -> list[dict[str, Any]]:
    """The case's history in plain words: received, each step and payment, the outcome; for
    `party` (another citizen asked for a step in it), only their steps."""
    entries: list[dict[str, Any]] = [{"text": page.t("status.received"), "at": instance.created_at, "done": True}]
    for task in progress.steps:
        # A party to someone else's case follows only their own steps in it.
        theirs = party is None or casefile.is_step_of(task, instance, party)
        if task.status is TaskStatus.CANCELLED or not theirs:
            continue
        who = page.t("status.you") if casefile.is_step_of(task, instance, party) else page.t(
            "status.other_party") if task.audience == "citizen" else page.t.pick(
            (meta.get("agencies") or {}).get(task.agency or ""), task.agency or "")
        key = "status.step_done" if task.status is TaskStatus.COMPLETED else "status.step_waiting"
        entries.append({"text": page.t(key, step=task_title(page.t, task), who=who),
                        "at": task.completed_at if task.status is TaskStatus.COMPLETED else task.created_at,
                        "done": task.status is TaskStatus.COMPLETED})
    for entry in timeline_entries(page, paying):
        # In its place in time among the steps; one still waited for goes after them all.
        at = entry["at"]
        place = next((i for i, e in enumerate(entries) if at is not None and e["at"] > at), len(entries))
        entries.insert(place, entry)
    if standing.outcome is not None:
        entries.append({"text": page.t.pick(standing.outcome.text), "at": instance.updated_at, "done": True,
                        "outcome": True})
    elif instance.status is InstanceStatus.COMPLETED:
        entries.append({"text": page.t("outcome.tag_problem"), "at": instance.updated_at, "done": True})
    elif instance.status in (InstanceStatus.FAILED, InstanceStatus.TERMINATED):
        entries.append({"text": page.t(f"status.{instance.status}"), "at": instance.updated_at, "done": True})
    return entries


def data_uses(page: Page, uses: Sequence[DataUseRecord], meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Each fetch of the citizen's data from another agency: which, what, why, when."""
    operations = page.runtime.connectors.operations
    connectors = page.runtime.connectors.connectors
    found = []
    for use in uses:
        connector, operation = connectors.get(use.connector), operations.get(use.operation)
        found.append({"agency": page.t.pick(connector.title, use.agency) if connector else use.agency,
                      "what": page.t.pick(operation.title, use.operation) if operation else use.operation,
                      "why": page.t("evidence.purpose", service=page.t.pick(meta.get("title"), use.purpose)),
                      "at": use.at})
    return found


@router.get("/cases/{instance_id}", **audience(Audience.CITIZEN))
def case_status(page: PageDep, instance_id: str, submitted: int = 0) -> Response:
    principal = page.visitor
    services = {s.key: s.meta for s in _services(page)}
    with page.runtime.reading() as session:
        instance = queries.load_instance(session, principal, instance_id, as_party=True)
        party = _party(principal, instance)
        progress = casefile.progress(session, instance)
        ready = queries.list_tasks(session, principal, instance_id, TaskStatus.READY)
        # What another citizen's case holds (its data uses, messages, documents, payment) is its
        # owner's; a party sees the case's status and their own steps.
        uses = [] if party else casefile.data_uses(session, instance)
        messages = [] if party else notifications.for_case(session, instance.id)
        documents = [] if party else issued_documents.of_case(session, instance.id, principal)
        meta = services.get(instance.process_key, {})
        deadline = _deadline(page, session, meta, instance)
        paying = payments.case_payments(session, instance.id) if not party else CasePayments(False, [])
    standing = casefile.standing(instance, progress, meta, party=party)
    return page.render("case.html", instance=instance, meta=meta, standing=standing,
                       entries=timeline(page, instance, progress, meta, standing, paying, party),
                       ready=ready, submitted=bool(submitted), uses=data_uses(page, uses, meta), messages=messages,
                       documents=documents, today=issued_documents.today_in_iran(), grouped=grouped,
                       iran_day=issued_documents.today_in_iran, panel=None if party else panel(page, paying),
                       party=party is not None, facts=[] if party else case_facts(page, meta, instance.data),
                       **deadline)


def case_facts(page: Page, meta: Mapping[str, Any], data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the card's `[[case_facts]]` tell the citizen from their case's data (an appointment
    booked, a parcel's tracking number), in the page's language, once the model has written it."""
    facts = []
    for fact in meta.get("case_facts") or []:
        variable = fact.get(f"variable_{page.t.lang}") or fact.get("variable")
        value = data.get(variable) if isinstance(variable, str) else None
        if value not in (None, "") and not isinstance(value, (dict, list)):
            facts.append((page.t.pick(fact, ""), str(value)))
    return facts


def _closing_page(page: Page, instance_id: str, action: str) -> Response:
    """The page that asks to confirm deleting a draft or withdrawing an application (409 when
    the case can no longer be closed that way)."""
    services = {s.key: s.meta for s in _services(page)}
    with page.runtime.reading() as session:
        instance = queries.load_instance(session, page.visitor, instance_id)
        standing = casefile.standing(instance, casefile.progress(session, instance),
                                     services.get(instance.process_key, {}))
    allowed = (standing.status is CaseStatus.DRAFT if action == "delete"
               else standing.status in citizen_actions.WITHDRAWABLE)
    return page.render("case_close.html", status=200 if allowed else 409, instance=instance, action=action,
                       allowed=allowed, meta=services.get(instance.process_key, {}), standing=standing)


@router.get("/cases/{instance_id}/delete", **audience(Audience.CITIZEN))
def delete_form(page: PageDep, instance_id: str) -> Response:
    return _closing_page(page, instance_id, "delete")


@router.post("/cases/{instance_id}/delete", **audience(Audience.CITIZEN, back="/cases/{instance_id}"))
def delete_draft(page: PageDep, _: FormDep, instance_id: str) -> Response:
    try:
        run_rehearsed(page.runtime, lambda session: citizen_actions.delete_draft(session, page.runtime, page.visitor,
                                                                          instance_id))
    except Conflict:
        return _closing_page(page, instance_id, "delete")
    return page.redirect("/cases?deleted=1")


@router.get("/cases/{instance_id}/withdraw", **audience(Audience.CITIZEN))
def withdraw_form(page: PageDep, instance_id: str) -> Response:
    return _closing_page(page, instance_id, "withdraw")


@router.post("/cases/{instance_id}/withdraw", **audience(Audience.CITIZEN, back="/cases/{instance_id}"))
def withdraw(page: PageDep, _: FormDep, instance_id: str) -> Response:
    try:
        run_rehearsed(page.runtime, lambda session: citizen_actions.withdraw(session, page.runtime, page.visitor,
                                                                          instance_id))
    except Conflict:
        return _closing_page(page, instance_id, "withdraw")
    return page.redirect(f"/cases/{instance_id}")


@router.get("/track", **audience(Audience.ANYONE))
def track_form(page: PageDep) -> Response:
    return page.render("track.html", result=None, errors={}, values={})


@router.post("/track", **audience(Audience.ANYONE))
def track(page: PageDep, posted: FormDep) -> Response:
    code = compact(str(posted.get("tracking_code", ""))).replace("-", "")
    national = canonical_national_code(str(posted.get("national_code", "")))
    values = {"tracking_code": posted.get("tracking_code", ""), "national_code": posted.get("national_code", "")}
    errors = {}
    if not is_valid_tracking_code(code):
        errors["tracking_code"] = page.t("track.code_invalid")
    if check_national_code(national):
        errors["national_code"] = page.t("track.national_invalid")
    if errors:
        return page.render("track.html", status=422, result=None, errors=errors, values=values)
    try:
        with page.runtime.unit_of_work() as session:
            hit(session, f"track:{page.client}", TRACK_PER_HOUR, timedelta(hours=1))
    except RateLimited as limited:
        response = page.render("track.html", status=429, result=None, values=values, errors={
            "tracking_code": page.t("track.too_many", minutes=limited.retry_after // 60 + 1)})
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    services = {s.key: s.meta for s in _services(page)}
    with page.runtime.reading() as session:
        try:
            instance = access.tracked_case(session, code, national)
        except NotFound:
            return page.render("track.html", status=404, result=None, values=values,
                               errors={"tracking_code": page.t("track.not_found")})
        progress = casefile.progress(session, instance)
        meta = services.get(instance.process_key, {})
        deadline = _deadline(page, session, meta, instance)
        paying = payments.case_payments(session, instance.id)
    standing = casefile.standing(instance, progress, meta)
    entries = timeline(page, instance, progress, meta, standing, paying)
    return page.render("track.html", result={"instance": instance, "meta": meta, "entries": entries, **deadline},
                       standing=standing, errors={}, values=values)


def _deadline(page: Page, session: Any, meta: dict[str, Any], instance: InstanceRecord) -> dict[str, Any]:
    """The service's legal deadline and, while the sent case is open, when its decision is due."""
    due = deadlines.case_due(session, page.runtime.change_limits.calendar, meta, instance.id, instance.status,
                             instance.created_at)
    return {"deadline_days": deadlines.deadline_working_days(meta), "due": due}
