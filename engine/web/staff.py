"""The staff inbox: an agency's open tasks, what the citizen gave, and the task's form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from engine.core.statuses import TaskStatus
from engine.security.principals import Principal
from engine.services import access, casefile, deadlines, instances, queries, uploads
from engine.services.access import Audience
from engine.services.catalogue import offered
from engine.services.errors import Conflict, InvalidInput
from engine.services.rehearsal import run_rehearsed
from engine.services.transaction import Transaction
from engine.web.audience import audience
from engine.web.fields import Question, parse, questions
from engine.web.page_context import FormDep, Page, PageDep
from forms.messages import message_for

router = APIRouter(include_in_schema=False)


@router.get("/staff", **audience(Audience.STAFF))
def inbox(page: PageDep) -> Response:
    principal = page.visitor
    with page.runtime.reading() as session:
        tasks = queries.list_tasks(session, principal, status=TaskStatus.READY)
        services = offered(session)
        due = deadlines.task_due_dates(session, page.runtime.change_limits.calendar,
                                       {s.key: s.meta for s in services}, tasks)
    names = [s.meta.get("agencies", {}).get(principal.agency or "") for s in services]
    agency = page.t.pick(next((n for n in names if n), None), principal.agency or "")
    return page.render("staff_inbox.html", tasks=deadlines.overdue_first(tasks, due), agency=agency,
                       due_dates=due, now=datetime.now(UTC))


def _render_task(page: Page, principal: Principal, task_id: str, errors: dict[str, str],
                 data: dict[str, object] | None = None, status: int = 200) -> Response:
    with page.runtime.reading() as session:
        row = queries.load_task(session, principal, task_id)
        instance = queries.load_instance(session, principal, row.instance_id)
        forms = [t.form for t in casefile.steps(session, instance) if t.form]
        meta = next((s.meta for s in offered(session) if s.key == instance.process_key), {})
        due = deadlines.case_due(session, page.runtime.change_limits.calendar, meta, instance.id, instance.status,
                                 instance.created_at)
    model = row.form or {}
    given = _given(page, forms, instance.data)
    # What the model fetched or decided before is read, in the list above, not asked again: a
    # read-only field among the decisions showed as an empty box marked optional.
    shown = [q for q in questions(page.t, model, model.get("ui", {}).get("order", []), data or {}, errors,
                                  variables=instance.data) if not q.readonly]
    return page.render("staff_task.html", status=status, task=row, instance=instance, given=given,
                       questions=shown, error_list=[(q.id, q.error) for q in shown if q.error],
                       due=due, now=datetime.now(UTC))


def _given(page: Page, forms: list[dict[str, Any]], data: dict[str, Any]) -> list[dict[str, Any]]:
    """What the case holds, labelled with the questions that asked for it (documents as links);
    what no form names is listed after them as `other`, under its variable's name."""
    asked: dict[str, Question] = {}
    for model in forms:
        for question in questions(page.t, model, model.get("ui", {}).get("order", []), data, variables=data):
            asked.setdefault(question.path, question)
    rows = []
    for key, value in data.items():
        found = asked.get(key)
        if found is None:
            rows.append({"label": key, "value": _plain(page, value), "link": None, "other": True})
            continue
        link = f"/staff/uploads/{value}" if found.widget == "file" and isinstance(value, str) else None
        shown = ", ".join(o.label for o in found.options if o.checked) if found.options else value
        rows.append({"label": found.label, "value": _plain(page, shown), "link": link, "other": False})
    return sorted(rows, key=lambda row: row["other"])


def _plain(page: Page, value: Any) -> str:
    """A value as words: yes or no, a list by commas, a table as "name: value" pairs (never JSON)."""
    if isinstance(value, bool):
        return str(page.t("check.yes") if value else page.t("check.no"))
    if isinstance(value, dict):
        return "؛ ".join(f"{key}: {_plain(page, item)}" for key, item in value.items()) if page.t.lang == "fa" \
            else "; ".join(f"{key}: {_plain(page, item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return "، ".join(_plain(page, item) for item in value) if page.t.lang == "fa" \
            else ", ".join(_plain(page, item) for item in value)
    return "" if value is None else str(value)


@router.get("/staff/tasks/{task_id}", **audience(Audience.STAFF))
def staff_task(page: PageDep, task_id: str) -> Response:
    return _render_task(page, page.visitor, task_id, {})


@router.post("/staff/tasks/{task_id}", **audience(Audience.STAFF))
def complete_staff_task(page: PageDep, posted: FormDep, task_id: str) -> Response:
    principal = page.visitor
    with page.runtime.reading() as session:
        row = queries.load_task(session, principal, task_id)
    model = row.form or {}
    answers, _ = parse(questions(page.t, model, model.get("ui", {}).get("order", []), {}), posted)
    def work(session: Transaction) -> None:
        locked = queries.load_task(session, principal, task_id, for_update=True)
        instances.complete_task(session, page.runtime, principal, locked, answers)

    try:
        run_rehearsed(page.runtime, work)
    except InvalidInput as invalid:
        errors = {e.field: message_for(e, page.t.lang) for e in invalid.errors}
        return _render_task(page, principal, task_id, errors, answers, status=422)
    except Conflict:
        return page.redirect("/staff")
    return page.redirect("/staff?done=1")


@router.get("/staff/uploads/{upload_id}", **audience(Audience.STAFF))
def staff_upload(page: PageDep, upload_id: str) -> Response:
    """A document given in a case of the agency, as an attachment, with its sniffed type and no
    sniffing by the browser."""
    with page.runtime.reading() as session:
        row = access.upload(session, page.visitor, upload_id)
    return FileResponse(uploads.path_of(page.runtime.settings.var_dir / "uploads", row), media_type=row.media_type,
                        filename=row.filename, headers={"X-Content-Type-Options": "nosniff",
                                                        "Content-Security-Policy": "sandbox"})
