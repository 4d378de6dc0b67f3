"""Tables. Instance state is one JSON blob per instance; everything queried is projected
into its own table in the same transaction (human tasks, service calls, waits, audit)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.core.statuses import (
    CallStatus,
    IncidentStatus,
    InstanceStatus,
    PaymentStatus,
    TaskStatus,
    incident_status,
)
from engine.db.base import Base, JSONType, UTCDateTime, status_type, utcnow


class Deployment(Base):
    """What an analyst deployed: the uploaded files, and what the engine runs of them.

    The engine runs the translated documents (`DeploymentFile.translated`) and the `forms`
    stored here, made once by the importer of `importer_version`; it never translates the
    upload again. A redeploy translates the same upload with today's importer into a new
    deployment (`redeploy_of`), so one upload may have several deployments.
    """

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The upload (files and service.toml); a redeployment's also covers what it was translated to.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    deployed_by: Mapped[str] = mapped_column(String(200))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column(JSONType)
    service: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # "0": translated before versions were kept (migration 0009 replaced it on every row it found).
    importer_version: Mapped[str] = mapped_column(String(32), server_default=text("'0'"))
    # The form model of each task and start event, by element id, as reviewed at deploy time.
    forms: Mapped[dict[str, Any]] = mapped_column(JSONType, server_default=text("'{}'"))
    # The first deployment of the same upload, when this one translated it again (a redeploy).
    redeploy_of: Mapped[int | None] = mapped_column(Integer, nullable=True)

    files: Mapped[list[DeploymentFile]] = relationship(
        back_populates="deployment", lazy="raise", order_by="DeploymentFile.id")
    definitions: Mapped[list[ProcessDefinition]] = relationship(
        back_populates="deployment", lazy="raise", order_by="ProcessDefinition.id")


class DeploymentFile(Base):
    __tablename__ = "deployment_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    # As uploaded: kept for download and audit, never run.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # The importer's output for a BPMN or DMN file, which is what runs; none for form files.
    translated: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    deployment: Mapped[Deployment] = relationship(back_populates="files", lazy="raise")


class ProcessDefinition(Base):
    """One process key at one version; a deployment brings one per executable process."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)

    deployment: Mapped[Deployment] = relationship(back_populates="definitions", lazy="raise")


class Instance(Base):
    __tablename__ = "instance"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[InstanceStatus] = mapped_column(status_type(InstanceStatus), index=True)
    tracking_code: Mapped[str] = mapped_column(String(14), unique=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    library_version: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Process key -> deployment id of every called process outside the instance's own
    # deployment, fixed at start: a restored workflow needs the subprocess specs it started with.
    call_bindings: Mapped[dict[str, int] | None] = mapped_column(JSONType, nullable=True)

    # Optimistic lock: every UPDATE says "WHERE lock_version = <what I read>", so of two
    # writers that read the same version exactly one matches a row.
    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012


class HumanTaskRow(Base):
    """A task waiting for (or done by) a person, projected from the workflow."""

    __tablename__ = "human_task"
    __table_args__ = (Index("ix_human_task_agency_status", "agency", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    spec_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    lane: Mapped[str | None] = mapped_column(String(255), nullable=True)
    audience: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # A citizen's task for someone other than the case's owner (a lane mapped to
    # "citizen:<variable>"): that person's national code; "" when the variable named nobody,
    # so no one but an admin may do it. None: the owner's task, as usual.
    citizen: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    form: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    status: Mapped[TaskStatus] = mapped_column(status_type(TaskStatus), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ServiceCallRow(Base):
    """A service task waiting for its result (the connector job outbox builds on it)."""

    __tablename__ = "service_call"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    spec_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(255))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[CallStatus] = mapped_column(status_type(CallStatus), index=True)
    result: Mapped[Any] = mapped_column(JSONType, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    backoff_base: Mapped[float] = mapped_column(Float, default=2.0)
    # Fixed waits in seconds before retry 1, 2, ... (the last repeating), when the model
    # sets them (Camunda 7's retry time cycle); otherwise backoff is exponential.
    retry_delays: Mapped[list[float] | None] = mapped_column(JSONType, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEvent(Base):
    """Append-only and hash-chained: `hash` covers this row and the previous row's hash."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the newest audit id and hash. Locking it serializes appends, and it lets
    `audit verify` notice rows cut from the end of the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str | None] = mapped_column(String(100), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SignInChallenge(Base):
    """A one-time code sent to a citizen's mobile; only its hash is kept."""

    __tablename__ = "sign_in_challenge"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    national_code: Mapped[str] = mapped_column(String(10), index=True)
    mobile: Mapped[str] = mapped_column(String(11))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """Messages to citizens. In embedded mode they stay here, shown on a development page."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Draft(Base):
    """What a citizen has answered so far on a task, saved page by page."""

    __tablename__ = "draft"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Upload(Base):
    """A file a citizen gave, stored outside the web root under its content hash.

    It belongs to its owner until an answer that names it is accepted; from then on it is
    also part of that case (and task), and of no other: who may read it follows the case.
    """

    __tablename__ = "upload"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instance.id"), nullable=True, index=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("human_task.id"), nullable=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RateLimitHit(Base):
    """One attempt at a rate-limited action (sign-in, tracking lookup), by key."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_hit_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Incident(Base):
    """Work that needs a person: a service call whose retries ran out, or an error no model catches."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    call_id: Mapped[str | None] = mapped_column(ForeignKey("service_call.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    @property
    def status(self) -> IncidentStatus:
        return incident_status(self.resolved_at is not None)


class DataUse(Base):
    """One use of a citizen's data held by another agency: who, what, why, when, and hashes of
    the exchange, so the citizen can see it and an auditor can match it with the agency's log."""

    __tablename__ = "data_use"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    call_id: Mapped[str] = mapped_column(String(36))
    connector: Mapped[str] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(200))
    end_user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    fields: Mapped[list[str]] = mapped_column(JSONType)
    outcome: Mapped[str] = mapped_column(String(32))
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimerRow(Base):
    """A timer an instance waits on, projected with its due time; the tick fires due ones.

    Rows are rewritten on every save (stale ones deleted); a fired row stays as history
    with `fired_at`. `claimed_at` marks a row handed to a broker worker, so the beat tick
    does not send it again while it waits in the queue.
    """

    __tablename__ = "timer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageWaitRow(Base):
    """A message catch waiting; (name, correlation) is how an incoming message finds it."""

    __tablename__ = "message_wait"
    __table_args__ = (Index("ix_message_wait_name_correlation", "name", "correlation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    correlation: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignalWaitRow(Base):
    """A signal catch waiting; a broadcast reaches every row with its name."""

    __tablename__ = "signal_wait"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageBufferRow(Base):
    """A message that came before anyone waited for it; kept until `expires_at`."""

    __tablename__ = "message_buffer"
    __table_args__ = (Index("ix_message_buffer_name_correlation", "name", "correlation"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    correlation: Mapped[str | None] = mapped_column(String(500), nullable=True)
    payload: Mapped[Any] = mapped_column(JSONType, nullable=True)
    sent_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consumed_by: Mapped[str | None] = mapped_column(String(36), nullable=True)


class StartTriggerRow(Base):
    """A start event of a deployed process that starts instances by itself (timer, message,
    signal). Only the newest version of a process has active triggers. A definition with
    none gets one row of kind "none", so it is looked at once."""

    __tablename__ = "start_trigger"
    __table_args__ = (UniqueConstraint("definition_id", "element_id"),
                      Index("ix_start_trigger_kind_name", "kind", "name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(255))
    element_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    expression: Mapped[str | None] = mapped_column(Text, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    cycles_left: Mapped[int | None] = mapped_column(Integer, nullable=True)
    period_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    fired: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """A message to the citizen about a change of their case's status: an outbox row, written
    in the transaction that made the change and sent after it commits.

    `key` (case, status, and the step for "waiting for you") is unique, so a change retried
    or replayed writes no second row; it is also the gateway's idempotency key, so a send
    retried after a lost answer texts the citizen once.
    """

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(254), nullable=True)
    lang: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the one sender that claimed the row; a claim older than the retry delay is taken again.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    gateway_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class CitizenContact(Base):
    """The language a citizen last used the portal in, so their messages are written in it, and
    the e-mail address they gave, if any, to get the same news by e-mail too."""

    __tablename__ = "citizen_contact"

    national_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class IssuedDocument(Base):
    """A document a case issued (a licence, a certificate): what it says, as it was issued.

    What the PDF and the public check show is kept here as issued (titles, labels, the
    agency's name, what it certifies), so a later change of the service's texts never changes
    a document already in someone's hands. One per case and kind: a call that is retried
    finds the document it issued. The PDF is written once, right after the row; a row
    without one (its worker died in between) is rendered from these columns when first asked.
    """

    __tablename__ = "issued_document"
    __table_args__ = (UniqueConstraint("instance_id", "kind"), UniqueConstraint("kind", "serial"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    serial: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    agency: Mapped[str] = mapped_column(String(100), index=True)
    holder_national_code: Mapped[str] = mapped_column(String(10), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    # Titles, the agency's name, what it certifies and each field with its label, by language.
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class DocumentSerial(Base):
    """The last serial number given to each kind of document; its row lock orders issuers."""

    __tablename__ = "document_serial"

    kind: Mapped[str] = mapped_column(String(100), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class DocumentCheck(Base):
    """One check of a verification code on the public page: who, when, which code, what it found."""

    __tablename__ = "document_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    code: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("issued_document.id"), nullable=True, index=True)
    result: Mapped[str] = mapped_column(String(16))
    client: Mapped[str] = mapped_column(String(100))
    # The signed-in visitor ("role:name"), when the check was made by one.
    checker: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Payment(Base):
    """One token a bank gateway issued for a case's fee, and what became of it.

    The token is unique: however often the gateway sends the citizen back with it, or someone
    sends it forged, it names this one row, and the row's status (moved under its lock) lets
    the case be told of the payment once. `attempt` counts a case's tokens (a cancelled or
    failed payment is followed by a new one); two tries at the same number cannot both be kept.
    """

    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("instance_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    # The service task that asked for the first token; later ones the citizen asked for.
    call_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[str] = mapped_column(String(64))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(255))
    payment_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[PaymentStatus] = mapped_column(status_type(PaymentStatus), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the gateway said when it verified: the receipt's reference (RRN), trace number, masked card.
    reference: Mapped[str | None] = mapped_column(String(32), nullable=True)
    trace: Mapped[str | None] = mapped_column(String(32), nullable=True)
    card: Mapped[str | None] = mapped_column(String(32), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refund_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Why it failed, or why the gateway could not be asked last time (a short code and words).
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
