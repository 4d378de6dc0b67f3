"""Request and response bodies of the JSON API (the contract; extra fields may be added)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.services.input_bounds import MAX_INTEGER
from forms.storable import MAX_SAFE_INTEGER

# Every integer the API takes, in parameters, bodies and data, lies within ±MAX_INT: the range
# every JSON reader keeps exactly (RFC 8259, section 6), well inside what SQLite and PostgreSQL
# store, and what an OpenAPI `maximum` (a float) can state exactly. Form answers share it.
MAX_INT = MAX_SAFE_INTEGER
# Ids and versions are `integer` columns, which PostgreSQL refuses a bigger value for even in
# a comparison: a bigger one names nothing and is refused as input.
MAX_ID = MAX_INTEGER


class Health(BaseModel):
    status: str
    database: str
    version: str


class ProcessOut(BaseModel):
    key: str
    name: str
    version: int
    deployment_id: int | None = None


class ProblemOut(BaseModel):
    severity: str
    message: str
    file: str
    element_id: str
    line: int | None


class FileInfoOut(BaseModel):
    file: str
    kind: str = Field(description="bpmn or dmn")
    dialect: str = Field(description="camunda7, camunda8, spiffarena, activiti, flowable or bpmn")
    exporter: str
    exporter_version: str
    executable: bool


class ElementOut(BaseModel):
    file: str
    element_id: str
    element_type: str
    name: str
    line: int | None
    status: Literal["executes", "translated", "needs attention", "unsupported"]
    details: list[str] = Field(description="what was translated from what to what, or what to do")


class ReportOut(BaseModel):
    deployable: bool
    problems: list[ProblemOut]
    files: list[FileInfoOut] = []
    elements: list[ElementOut] = []
    counts: dict[str, int] = Field(default_factory=dict, description="elements per status")


class DeploymentOut(BaseModel):
    id: int
    version: int = Field(description="the newest process version this deployment brought")
    name: str
    content_hash: str
    deployed_by: str
    deployed_at: datetime
    importer_version: str = Field(description="the importer that translated the files; what runs is that translation")
    redeploy_of: int | None = Field(None, description="the first deployment of the same files, when this one "
                                                      "translated them again")
    created: bool = True
    files: list[str] = []
    processes: list[ProcessOut]
    report: ReportOut


class StartIn(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(None, ge=1, le=MAX_ID, description="a process version; the newest when omitted")


class InstanceCreated(BaseModel):
    id: str
    tracking_code: str
    status: str
    process_key: str
    version: int
    error: str | None = None


class TaskOut(BaseModel):
    id: str
    instance_id: str
    name: str
    title: str
    kind: str
    lane: str | None
    audience: str
    agency: str | None
    status: str
    claimed_by: str | None = None
    completed_by: str | None = None
    created_at: datetime
    completed_at: datetime | None = None
    form: dict[str, Any] | None = None


class InstanceOut(BaseModel):
    id: str
    status: str
    process_key: str
    version: int
    tracking_code: str
    data: dict[str, Any]
    error: str | None
    created_at: datetime
    updated_at: datetime
    tasks: list[TaskOut]
    history: list[dict[str, Any]]


class InstanceSummary(BaseModel):
    id: str
    status: str
    process_key: str
    version: int
    tracking_code: str
    created_at: datetime


class CompleteIn(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)


class ServiceCallOut(BaseModel):
    id: str
    instance_id: str
    name: str
    operation: str
    params: dict[str, Any]
    status: str


class ServiceResultIn(BaseModel):
    result: Any = None


class ServiceErrorIn(BaseModel):
    code: str = Field(min_length=1, max_length=200, description="the BPMN error code to throw")
    message: str = Field(default="", max_length=2000)


class AuditVerification(BaseModel):
    ok: bool
    checked: int
    problems: list[str]


class TerminateIn(BaseModel):
    reason: str = Field(min_length=3, max_length=1000)


class IssuedDocumentOut(BaseModel):
    id: str
    kind: str
    serial: int
    code: str = Field(description="the verification code, in groups as printed (ABCD-EFGH-JKMN)")
    instance_id: str
    agency: str = Field(description="the issuing agency's code")
    holder_national_code: str
    holder_name: str
    title: dict[str, str] = Field(description="the document's title by language")
    issued_at: datetime
    valid_until: date | None
    revoked_at: datetime | None
    status: Literal["valid", "expired", "revoked"]
    checks: int = Field(description="how often the public page checked it")


class RevokeIn(BaseModel):
    reason: str = Field(min_length=3, max_length=1000)


class UploadOut(BaseModel):
    id: str
    name: str
    media_type: str
    size: int
    sha256: str


class OperationOut(BaseModel):
    id: str
    connector: str
    name: str
    title: dict[str, str]
    agency: str
    description: dict[str, str]
    personal_fields: list[str]
    params: dict[str, Any]
    result: dict[str, Any]


class IncidentOut(BaseModel):
    id: int
    instance_id: str
    call_id: str | None
    kind: str
    message: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


class DataUseOut(BaseModel):
    id: int
    call_id: str
    connector: str
    operation: str
    agency: str = Field(description="the agency whose data was used")
    purpose: str
    end_user: str | None
    fields: list[str] = Field(description="the personal fields the operation returns")
    outcome: str
    request_sha256: str = Field(description="hash of what was sent, to match with the agency's own log")
    response_sha256: str | None
    at: datetime


class FieldProblem(BaseModel):
    field: str = Field(description="where: a dotted path into the body, or a parameter name; empty for the whole")
    message: str


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="what went wrong, in words")
    errors: list[FieldProblem] = Field(default_factory=list, description="field by field, when input was refused")
    report: ReportOut | None = Field(None, description="the compatibility report of files that are not deployable")
    reference: str | None = Field(None, description="for an unexpected failure (500): the reference under which "
                                                     "the server logged it; quote it when reporting the failure")


class MigrateIn(BaseModel):
    deployment_id: int = Field(ge=1, le=MAX_ID, description="the deployment to move to: another deployment of "
                                                             "the instance's process")
    dry_run: bool = Field(False, description="say what the move would do and change nothing")
    lock_version: int | None = Field(None, ge=0, le=MAX_ID, description="the instance's `lock_version` its dry run "
                                     "reported: the move is refused (409) if the instance changed since")


class VersionRef(BaseModel):
    deployment_id: int
    version: int | None = Field(description="the process's version in that deployment (none: it has no such "
                                            "process)")


class ElementChangeOut(BaseModel):
    element_id: str
    renamed_to: str | None = Field(description="the element's id in the new version, when it was renamed")
    attributes: list[str] = Field(description="what differs: `script`, `event_definition`, `bpmn_name`...")


class TaskMoveOut(BaseModel):
    task_id: str
    element_id: str
    state: str = Field(description="ready, waiting or started")
    outcome: Literal["kept", "changed", "restarted", "refused"]
    reason: str


class MigrationPlanOut(BaseModel):
    removed: list[str] = Field(description="elements the new version does not have")
    added: list[str] = Field(description="elements only the new version has")
    changed: list[ElementChangeOut]
    tasks: list[TaskMoveOut] = Field(description="what becomes of each task the instance is at")


class TimerWaitOut(BaseModel):
    element_id: str
    due_at: datetime


class WaitsOut(BaseModel):
    status: str
    error: str | None
    tasks: list[str] = Field(description="elements of the tasks waiting for a person")
    timers: list[TimerWaitOut]
    messages: list[str]
    signals: list[str]
    service_calls: list[str] = Field(description="elements of the service calls waiting for a result")


class MigrationOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    instance_id: str
    tracking_code: str
    source: VersionRef = Field(alias="from")
    target: VersionRef = Field(alias="to")
    dry_run: bool
    migrated: bool = Field(description="whether the instance moved (never on a dry run)")
    safe: bool = Field(description="whether the instance can move")
    refusals: list[str] = Field(description="why it cannot move, one reason each")
    lock_version: int = Field(description="the instance's lock version, as read (dry run) or saved (move)")
    plan: MigrationPlanOut | None = Field(description="what the move does; none when the target does not fit at all")
    after: WaitsOut | None = Field(description="what the instance waits for after the move (for a dry run, would)")
