"""The public check of an issued document by its verification code, and the log of every check.

A bank, a landlord or another agency types the code printed on a document (or scans its QR
code) and learns whether it is valid, revoked or expired, what it is and what it certifies,
with the holder's name partly hidden: enough to match the paper in their hands, not enough
to learn about a stranger from a guessed code. Codes cannot be guessed (see
`engine.services.document_codes`), and lookups are limited per client address, like tracking.

Every lookup is recorded (when, which code, what it found, the client's address, and the
signed-in visitor if any), so the holder and an auditor can see who relied on a document.
A code that is not even well formed is answered without a lookup and is not a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.models import DocumentCheck, IssuedDocument
from engine.services import document_texts, issued_documents
from engine.services.document_codes import is_well_formed, normalised
from engine.services.ratelimit import hit
from forms.storable import escaped

VERIFY_PER_HOUR = 60
# The code as typed is kept (normalised) up to its stored length; a longer one is malformed anyway.
CODE_CHARS = 16


class MalformedCode(ValueError):
    """What was typed cannot be a verification code: wrong length, a letter we never use, or a typo."""


@dataclass(frozen=True)
class Verdict:
    """What the public page says about a code: `result` is valid, expired, revoked or unknown."""

    code: str
    result: str
    kind: str | None = None
    title: dict[str, str] | None = None
    agency: dict[str, str] | None = None
    serial: int | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    revoked_on: date | None = None
    holder: str | None = None
    certifies: dict[str, str] | None = None


def _public_texts(content: dict[str, object], hidden: str) -> dict[str, str] | None:
    texts = {lang: document_texts.certifies_publicly(content, lang, hidden) for lang in document_texts.LANGUAGES}
    return {lang: text for lang, text in texts.items() if text} or None


def check(session: Session, typed: str, client: str, checker: str | None) -> Verdict:
    """Look up a typed code, count it against the client's limit, and record the check.

    Raises:
        MalformedCode: `typed` cannot be a code (nothing is counted or recorded).
        RateLimited: the client checked `VERIFY_PER_HOUR` codes in the last hour.
    """
    code = normalised(typed)
    if not is_well_formed(code):
        raise MalformedCode(typed)
    hit(session, f"verify:{client}", VERIFY_PER_HOUR, timedelta(hours=1), "verify.too_many")
    row = session.execute(select(IssuedDocument).where(IssuedDocument.code == code)).scalar_one_or_none()
    if row is None:
        verdict = Verdict(code, "unknown")
    else:
        document = issued_documents.view(row)
        hidden = document_texts.masked(row.holder_name)
        verdict = Verdict(
            code, document.status(issued_documents.today_in_iran()), kind=row.kind,
            title=dict(document.content.get("title") or {}), agency=dict(document.content.get("agency") or {}),
            serial=row.serial, issued_on=issued_documents.today_in_iran(row.issued_at), valid_until=row.valid_until,
            revoked_on=issued_documents.today_in_iran(row.revoked_at) if row.revoked_at else None,
            holder=hidden, certifies=_public_texts(document.content, hidden))
    session.add(DocumentCheck(code=code[:CODE_CHARS], document_id=row.id if row else None, result=verdict.result,
                              client=escaped(client)[:100], checker=checker))
    return verdict
