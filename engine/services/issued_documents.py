"""Issuing documents: the licence or certificate a case ends with, its serial, code and PDF.

A model issues a document with a service task bound to `panjereh/issue_document` (see
`engine.services.builtin_operations`), giving the kind, the holder and the fields. What the
document says around them (its title, each field's label, what it certifies, the issuing
agency's name) is declared in the service's `service.toml` under `[issued_documents.<kind>]`
and copied into the document when it is issued, so it never changes afterwards.

Issuing is three short steps, so no write lock is held while a PDF is drawn:

1. In one transaction: the document the case already has of that kind, if any (a retried
   call finds it and issues nothing); otherwise the next serial of the kind (a counter row
   whose lock orders concurrent issuers, on PostgreSQL and SQLite alike), a fresh
   verification code, and the document row, committed together: a serial is given once.
2. The PDF is drawn from the row (`forms.issued_pdf`), outside any transaction.
3. It is stored, unless another attempt stored it first.

A document whose PDF was never stored (the worker died between 1 and 3) is drawn from its
row when it is first asked for (`pdf_of`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.sdk import ConnectorError
from engine import audit
from engine.db.base import utcnow
from engine.db.models import Deployment, DocumentCheck, DocumentSerial, Instance, IssuedDocument
from engine.security.principals import Principal
from engine.services import access, document_texts, queries
from engine.services.document_codes import grouped, new_code
from engine.services.errors import Conflict, Forbidden
from engine.services.runtime import Runtime
from forms import issued_pdf
from forms.dates import IRAN_TIME
from forms.identifiers import canonical_national_code, check_national_code

ACTOR = "system:documents"
# Answers a document shows: the same bound as a field of a form, and no more than a page holds.
MAX_FIELDS = 40
MAX_VALUE_CHARS = 500
Status = Literal["valid", "expired", "revoked"]


class IssueParams(BaseModel):
    """What a model gives `panjereh/issue_document`."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100, json_schema_extra={
        "x-title": {"fa": "نوع سند", "en": "Kind of document"},
        "x-description": {"fa": "نامی که در service.toml زیر [issued_documents] آمده است",
                          "en": "its name under [issued_documents] in service.toml"}})
    holder_national_code: str = Field(max_length=20, json_schema_extra={
        "x-title": {"fa": "کد ملی دارنده", "en": "Holder's national code"}})
    holder_name: str = Field(min_length=1, max_length=200, json_schema_extra={
        "x-title": {"fa": "نام دارنده", "en": "Holder's name"}})
    fields: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=MAX_FIELDS,
                                                        json_schema_extra={
        "x-title": {"fa": "مندرجات سند", "en": "What the document states"}})
    valid_years: int | None = Field(None, ge=1, le=99, json_schema_extra={
        "x-title": {"fa": "مدت اعتبار (سال)", "en": "Valid for (years)"}})
    agency: str | None = Field(None, min_length=1, max_length=100, json_schema_extra={
        "x-title": {"fa": "دستگاه صادرکننده", "en": "Issuing agency"},
        "x-description": {"fa": "اگر خالی بماند، دستگاه صاحب خدمت", "en": "the service's own agency when left out"}})

    @field_validator("holder_national_code")
    @classmethod
    def _national_code(cls, value: str) -> str:
        canonical = canonical_national_code(value)
        if check_national_code(canonical):
            raise ValueError("not a valid national code")
        return canonical

    @field_validator("fields")
    @classmethod
    def _short_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, given in value.items():
            if isinstance(given, str) and len(given) > MAX_VALUE_CHARS:
                raise ValueError(f"{name}: at most {MAX_VALUE_CHARS} characters")
        return value


class IssueResult(BaseModel):
    """What the model gets back: enough to name the document in a message or a later step."""

    document_id: str
    kind: str
    serial: int
    code: str
    issued_on: str
    valid_until: str | None


@dataclass(frozen=True)
class IssuedView:
    """An issued document as pages and the API show it (never its PDF)."""

    id: str
    kind: str
    serial: int
    code: str
    instance_id: str
    agency: str
    holder_national_code: str
    holder_name: str
    content: dict[str, Any]
    issued_at: datetime
    valid_until: date | None
    revoked_at: datetime | None
    checks: int = 0
    last_checked_at: datetime | None = None

    def title(self, lang: str) -> str:
        return str((self.content.get("title") or {}).get(lang) or self.kind)

    def status(self, today: date) -> Status:
        """"revoked", "expired" or "valid" on `today` (the date in Iran)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.valid_until is not None and self.valid_until < today:
            return "expired"
        return "valid"


def view(row: IssuedDocument, checks: int = 0, last_checked_at: datetime | None = None) -> IssuedView:
    return IssuedView(row.id, row.kind, row.serial, row.code, row.instance_id, row.agency, row.holder_national_code,
                      row.holder_name, dict(row.content), row.issued_at, row.valid_until, row.revoked_at, checks,
                      last_checked_at)


def today_in_iran(moment: datetime | None = None) -> date:
    return (moment or utcnow()).astimezone(IRAN_TIME).date()


def _next_serial(session: Session, kind: str) -> int:
    """The next serial of `kind`: one more than the last, under the counter row's lock."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The first of a kind creates its counter; a concurrent first waits for it and then
    # finds it (ON CONFLICT DO NOTHING), so both go on to the same row's UPDATE below.
    session.execute(insert(DocumentSerial).values(kind=kind, last=0).on_conflict_do_nothing(index_elements=["kind"]))
    # The UPDATE locks the row until commit (PostgreSQL; SQLite writers already queue), and
    # reads the value another issuer committed meanwhile: serials never repeat or skip.
    serial: int = session.execute(update(DocumentSerial).where(DocumentSerial.kind == kind)
                                  .values(last=DocumentSerial.last + 1).returning(DocumentSerial.last)).scalar_one()
    return serial


def _find(session: Session, instance_id: str, kind: str) -> IssuedDocument | None:
    return session.execute(select(IssuedDocument).where(IssuedDocument.instance_id == instance_id,
                                                        IssuedDocument.kind == kind)).scalar_one_or_none()


def _create(session: Session, instance_id: str, params: IssueParams) -> IssuedDocument:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise ConnectorError("not-found", f"no case {instance_id}")
    deployment = session.get(Deployment, instance.deployment_id)
    service = (deployment.service if deployment is not None else None) or {}
    agency = params.agency or str(service.get("agency") or "")
    if not agency:
        raise ConnectorError("document-not-declared", "the service names no agency, and the call gives none")
    now = utcnow()
    issued_on = today_in_iran(now)
    valid_until = document_texts.years_later(issued_on, params.valid_years) if params.valid_years else None
    content = document_texts.content(service, params.kind, params.fields, agency, issued_on, valid_until)
    row = IssuedDocument(id=str(uuid.uuid4()), kind=params.kind, serial=_next_serial(session, params.kind),
                         code=new_code(), instance_id=instance_id, agency=agency,
                         holder_national_code=params.holder_national_code, holder_name=params.holder_name,
                         content=content, valid_until=valid_until, issued_at=now)
    session.add(row)
    session.flush()
    audit.append(session, ACTOR, "document.issued", instance_id=instance_id, subject=params.kind,
                 detail={"document": row.id, "serial": row.serial, "agency": agency})
    return row


def issue(runtime: Runtime, instance_id: str, params: IssueParams) -> IssueResult:
    """Issue the document of kind `params.kind` for case `instance_id`, or find the one it has.

    Raises:
        ConnectorError: the service does not declare the document or its fields as given
            (final: a person fixes the model or the service), or the issue lost a race that
            a retry settles (retryable).
    """
    try:
        with runtime.unit_of_work() as session:
            row = _find(session, instance_id, params.kind) or _create(session, instance_id, params)
            document = view(row)
            stored = row.pdf is not None
    except Conflict as lost:
        # Another attempt at the same call issued it at the same moment: that one stands.
        with runtime.reading() as session:
            found = _find(session, instance_id, params.kind)
            if found is None:
                raise ConnectorError("document-race", str(lost), retryable=True) from lost
            document, stored = view(found), found.pdf is not None
    if not stored:
        _store_pdf(runtime, document)
    return IssueResult(document_id=document.id, kind=document.kind, serial=document.serial, code=document.code,
                       issued_on=today_in_iran(document.issued_at).isoformat(),
                       valid_until=document.valid_until.isoformat() if document.valid_until else None)


def sheet(runtime: Runtime, document: IssuedView) -> issued_pdf.Sheet:
    """What the PDF of `document` shows."""
    content = document.content
    return issued_pdf.Sheet(
        title_fa=content["title"]["fa"], title_en=content["title"]["en"],
        agency_fa=content["agency"]["fa"], agency_en=content["agency"]["en"],
        holder_name=document.holder_name, holder_national_code=document.holder_national_code,
        lines=[issued_pdf.Line(f["label"]["fa"], f["label"]["en"], f["value"]["fa"]) for f in content["fields"]],
        certifies_fa=document_texts.certifies(content, "fa", document.holder_name),
        certifies_en=document_texts.certifies(content, "en", document.holder_name),
        serial=document.serial, issued_on=today_in_iran(document.issued_at), valid_until=document.valid_until,
        code=grouped(document.code), verify_url=f"{runtime.settings.base_url}/verify?code={grouped(document.code)}")


def _store_pdf(runtime: Runtime, document: IssuedView) -> bytes:
    pdf = issued_pdf.render(sheet(runtime, document))
    with runtime.unit_of_work() as session:
        # Only where none is stored yet: of two attempts drawing it at once, the first stays.
        session.execute(update(IssuedDocument).where(IssuedDocument.id == document.id, IssuedDocument.pdf.is_(None))
                        .values(pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest()))
    with runtime.reading() as session:
        stored = session.execute(select(IssuedDocument.pdf).where(IssuedDocument.id == document.id)).scalar_one()
    return stored if stored is not None else pdf


def file_name(document: IssuedView) -> str:
    """The PDF's file name: its kind and serial, in ASCII for every browser."""
    return f"{document.kind}-{issued_pdf.serial_text(document.serial)}.pdf"


def pdf_of(runtime: Runtime, document: IssuedView) -> bytes:
    """The PDF of a document the caller may read (see `engine.services.access.issued_document`)."""
    with runtime.reading() as session:
        stored = session.execute(select(IssuedDocument.pdf).where(IssuedDocument.id == document.id)).scalar_one()
    return stored if stored is not None else _store_pdf(runtime, document)


def of_case(session: Session, instance_id: str, principal: Principal | None = None) -> list[IssuedView]:
    """The documents case `instance_id` issued (those `principal` may read, when given), oldest
    first, each with how often the public page checked it."""
    checks = (select(DocumentCheck.document_id, func.count().label("checks"), func.max(DocumentCheck.at).label("last"))
              .group_by(DocumentCheck.document_id).subquery())
    rows = session.execute(
        select(IssuedDocument, checks.c.checks, checks.c.last)
        .outerjoin(checks, checks.c.document_id == IssuedDocument.id)
        .where(IssuedDocument.instance_id == instance_id,
               access.visible_documents(principal) if principal else IssuedDocument.id.is_not(None))
        .order_by(IssuedDocument.issued_at, IssuedDocument.id)).all()
    return [view(row, count or 0, last) for row, count, last in rows]


def readable(session: Session, principal: Principal, document_id: str, instance_id: str | None = None) -> IssuedView:
    """Document `document_id` (of case `instance_id`, when given), if `principal` may read it."""
    return view(access.issued_document(session, principal, document_id, instance_id))


def of_visible_case(session: Session, principal: Principal, instance_id: str) -> list[IssuedView]:
    """The documents of case `instance_id`, which `principal` must be allowed to see."""
    queries.load_instance(session, principal, instance_id)
    return of_case(session, instance_id, principal)


def revoke(session: Session, principal: Principal, document_id: str, reason: str) -> IssuedView:
    """Withdraw a document: from now on the public check says it is revoked.

    Raises:
        NotFound: the caller may not read the document.
        Forbidden: the caller may read it but is not of the issuing agency.
        Conflict: it is revoked already.
    """
    row = access.issued_document(session, principal, document_id)
    if not access.may_revoke(principal, row):
        raise Forbidden("only the agency that issued a document may revoke it")
    locked = session.execute(select(IssuedDocument).where(IssuedDocument.id == document_id)
                             .with_for_update()).scalar_one()
    if locked.revoked_at is not None:
        raise Conflict(f"document {document_id} is already revoked")
    locked.revoked_at, locked.revoked_by, locked.revoked_reason = utcnow(), principal.actor, reason
    audit.append(session, principal.actor, "document.revoked", instance_id=locked.instance_id, subject=locked.kind,
                 detail={"document": locked.id, "serial": locked.serial, "reason": reason})
    return view(locked)
