"""The citizen's journey through one task: a page per question, check answers, submit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from engine.security.principals import Principal
from engine.services import access, casefile, drafts, instances, queries, uploads
from engine.services.access import Audience
from engine.services.errors import Conflict, InvalidInput
from engine.services.records import InstanceRecord, TaskRecord
from engine.services.rehearsal import run_rehearsed
from engine.services.transaction import Transaction
from engine.web.audience import audience
from engine.web.fields import Question, get_value, hidden_paths, parse, questions, schema_at, set_value
from engine.web.page_context import FormDep, Page, PageDep
from forms.messages import message_for
from forms.validate import FieldError, error_names, validate_submission

router = APIRouter(include_in_schema=False)


def _message(page: Page, error: FieldError) -> str:
    return message_for(error, page.t.lang)


def _task(page: Page, principal: Principal, instance_id: str, task_id: str) -> tuple[InstanceRecord, TaskRecord]:
    with page.runtime.reading() as session:
        return access.case_task(session, principal, instance_id, task_id)


def _hidden(row: TaskRecord, data: dict[str, Any]) -> set[str]:
    return hidden_paths(row.form, data) if row.form else set()


def _pages(row: TaskRecord, data: dict[str, Any], hidden: set[str] | None = None) -> list[list[str]]:
    """The pages still to ask: read-only fields are shown, not asked, and a page whose every
    field is hidden by a condition is skipped."""
    model = row.form or {}
    hidden = _hidden(row, data) if hidden is None else hidden
    readonly = set(model.get("ui", {}).get("readonly", []))
    pages = [[f for f in page if f not in readonly] for page in (model.get("ui", {}).get("pages") or [])]
    return [p for p in pages if any(f not in hidden for f in p)]


def _evidence(page: Page, row: TaskRecord, instance: InstanceRecord, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Read-only answers another agency gave, each with where and when it came from."""
    model = row.form or {}
    readonly = [p for p in model.get("ui", {}).get("order", []) if p in set(model.get("ui", {}).get("readonly", []))]
    if not readonly:
        return []
    with page.runtime.reading() as session:
        uses = {u.connector: u for u in casefile.data_uses(session, instance, answered_only=True)}
    connectors = page.runtime.connectors.connectors
    found = []
    for question in questions(page.t, model, readonly, data):
        if question.value in (None, ""):
            continue
        node, _ = schema_at(model.get("schema") or {}, question.path)
        source = str(node.get("x-source", ""))
        use = uses.get(source)
        agency = page.t.pick(connectors[source].title, source) if source in connectors else ""
        found.append({"question": question, "source": agency, "at": use.at if use else None})
    return found


def _answers(page: Page, row: TaskRecord, instance: InstanceRecord, owner: str) -> dict[str, Any]:
    with page.runtime.reading() as session:
        saved = drafts.load(session, row.id, owner)
    model = row.form or {}
    known: dict[str, Any] = {}
    for path in model.get("ui", {}).get("order", []):
        value = get_value(instance.data, path)
        if value is not None:
            set_value(known, path, value)
    return {**known, **saved}


def _base(instance: InstanceRecord, row: TaskRecord) -> str:
    return f"/cases/{instance.id}/tasks/{row.id}"


@dataclass
class _Step:
    """One page of one task, as the signed-in citizen left it."""

    principal: Principal
    instance: InstanceRecord
    row: TaskRecord
    data: dict[str, Any]
    pages: list[list[str]]


def _step(page: Page, instance_id: str, task_id: str, number: int) -> _Step | Response:
    """The page asked for, or where to go instead (past the last page, the check)."""
    principal = page.visitor
    instance, row = _task(page, principal, instance_id, task_id)
    data = _answers(page, row, instance, principal.name)
    pages = _pages(row, data)
    if not 0 <= number < len(pages):
        return page.redirect(f"{_base(instance, row)}/check")
    return _Step(principal, instance, row, data, pages)


@router.get("/cases/{instance_id}/tasks/{task_id}/pages/{number}", **audience(Audience.CITIZEN))
def show_page(page: PageDep, instance_id: str, task_id: str, number: int, return_to: str = "") -> Response:
    step = _step(page, instance_id, task_id, number)
    if isinstance(step, Response):
        return step
    return _render_page(page, step.instance, step.row, step.pages, number, step.data, {},
                        from_check=return_to == RETURN_TO_CHECK)


# "Change" on the check page sends the citizen to one page and, once it is saved, back to the check.
RETURN_TO_CHECK = "check"


def _render_page(page: Page, instance: InstanceRecord, row: TaskRecord, pages: list[list[str]], number: int,
                 data: dict[str, Any], errors: dict[str, str], status: int = 200, *,
                 from_check: bool = False) -> Response:
    shown = questions(page.t, row.form or {}, pages[number], data, errors, variables=instance.data)
    back = (f"{_base(instance, row)}/check" if from_check
            else f"{_base(instance, row)}/pages/{number - 1}" if number > 0 else f"/cases/{instance.id}")
    evidence = _evidence(page, row, instance, data) if number == 0 else []
    return page.render("question.html", status=status, instance=instance, task=row, questions=shown,
                       evidence=evidence,
                       number=number, total=len(pages), back=back,
                       action=f"{_base(instance, row)}/pages/{number}",
                       multipart=any(q.widget == "file" for q in shown),
                       return_to=RETURN_TO_CHECK if from_check else "",
                       error_list=[(q.id, q.error) for q in shown if q.error])


@router.post("/cases/{instance_id}/tasks/{task_id}/pages/{number}", **audience(Audience.CITIZEN))
def save_page(page: PageDep, posted: FormDep, instance_id: str, task_id: str, number: int) -> Response:
    step = _step(page, instance_id, task_id, number)
    if isinstance(step, Response):
        return step
    principal, instance, row, data, pages = step.principal, step.instance, step.row, step.data, step.pages
    asked = questions(page.t, row.form or {}, pages[number], data, variables=instance.data)
    answers, empty = parse(asked, posted)
    errors: dict[str, str] = {}
    with page.runtime.unit_of_work() as session:
        for question in (q for q in asked if q.widget == "file"):
            name = page.t.pick(error_names((row.form or {}).get("schema") or {}).get(question.path), "")
            errors.update(_store_file(page, session, principal, question, posted, answers, name))
        candidate = {**data, **answers}
        for path in empty:
            candidate.pop(path, None)
        # A refused document says why; "required" for the same question would only hide it.
        for path, message in _page_errors(page, row, [q.path for q in asked], candidate, instance).items():
            errors.setdefault(path, message)
        if not errors:
            drafts.save(session, row.id, principal.name, answers, empty)
    _close(posted)
    if errors:
        return _render_page(page, instance, row, pages, number, {**data, **answers}, errors, status=422,
                            from_check=posted.get("return_to") == RETURN_TO_CHECK)
    following = _pages(row, candidate)
    if number + 1 < len(following) and posted.get("return_to") != RETURN_TO_CHECK:
        return page.redirect(f"{_base(instance, row)}/pages/{number + 1}")
    return page.redirect(f"{_base(instance, row)}/check")


def _store_file(page: Page, session: Transaction, principal: Principal, question: Question, posted: Any,
                answers: dict[str, Any], name: str) -> dict[str, str]:
    upload = posted.get(question.path)
    if not isinstance(upload, UploadFile) or not upload.filename:
        if question.value is None and question.required:
            # The field's own name ("the lease or deed of the premises") when the form gives one.
            if name:
                return {question.path: page.t("upload.missing_named", name=name)}
            return {question.path: page.t("upload.missing", label=question.label)}
        return {}
    content = upload.file.read(uploads.MAX_BYTES + 1)
    try:
        stored = uploads.store(session, page.runtime.settings.var_dir / "uploads", principal.name,
                               upload.filename, content)
    except uploads.UploadRefused as refused:
        return {question.path: page.t(refused.reason, label=question.label)}
    answers[question.path] = stored.id
    return {}


def _close(posted: Any) -> None:
    # Uploads are spooled to temporary files; close them now rather than at garbage collection.
    for value in posted.values():
        if isinstance(value, UploadFile):
            value.file.close()


def _page_errors(page: Page, row: TaskRecord, paths: list[str], candidate: dict[str, Any],
                 instance: InstanceRecord) -> dict[str, str]:
    _, errors = validate_submission(row.form, candidate, variables=instance.data)
    return {e.field: _message(page, e) for e in errors if e.field in paths}


@router.get("/cases/{instance_id}/tasks/{task_id}/check", **audience(Audience.CITIZEN))
def check_answers(page: PageDep, instance_id: str, task_id: str) -> Response:
    principal = page.visitor
    instance, row = _task(page, principal, instance_id, task_id)
    return _render_check(page, instance, row, _answers(page, row, instance, principal.name), [])


def _render_check(page: Page, instance: InstanceRecord, row: TaskRecord, data: dict[str, Any],
                  errors: list[FieldError], status: int = 200) -> Response:
    hidden = _hidden(row, data)
    pages = _pages(row, data, hidden)
    rows = []
    for number, paths in enumerate(pages):
        for question in questions(page.t, row.form or {}, paths, data, hidden=hidden, variables=instance.data):
            rows.append((question, number))
    return page.render("check.html", status=status, instance=instance, task=row, rows=rows,
                       evidence=_evidence(page, row, instance, data),
                       action=f"{_base(instance, row)}/check", base=_base(instance, row),
                       error_list=[(f"f-{e.field.replace('.', '-')}", _message(page, e)) for e in errors],
                       uploads=_upload_names(page, data))


def _upload_names(page: Page, data: dict[str, Any]) -> dict[str, str]:
    with page.runtime.reading() as session:
        return uploads.names(session, page.visitor, [v for v in data.values() if isinstance(v, str)])


@router.post("/cases/{instance_id}/tasks/{task_id}/check", **audience(Audience.CITIZEN))
def submit(page: PageDep, _: FormDep, instance_id: str, task_id: str) -> Response:
    principal = page.visitor
    instance, row = _task(page, principal, instance_id, task_id)
    data = _answers(page, row, instance, principal.name)
    def work(session: Transaction) -> None:
        locked = queries.load_task(session, principal, row.id, for_update=True)
        instances.complete_task(session, page.runtime, principal, locked, data)
        drafts.discard(session, row.id)

    try:
        run_rehearsed(page.runtime, work)
    except InvalidInput as invalid:
        return _render_check(page, instance, row, data, invalid.errors, status=422)
    except Conflict:
        return page.redirect(f"/cases/{instance.id}")
    return page.redirect(f"/cases/{instance.id}/next")
