"""Telling the citizen when their case changes: sent, waiting for them, decided, withdrawn.

Exactly once per change. Every transaction of the runtime's write sessions is watched: at
its commit, each case it changed is looked at (`engine.services.casefile.standing`), and
when the case's status tag moved to one the citizen hears about, a `Notification` row is
written in that same transaction, keyed by the case, the status and the step, with a unique
constraint. A change that rolls back writes no message; a change replayed writes no second
one. After the commit the rows are sent through the SMS connector, each claimed by one sender
first and sent with its key as the gateway's idempotency key, so a retried send texts nobody
twice; a send that failed stays pending for `deliver_pending` (`panjereh notifications send`).

A citizen who gave an e-mail address (on their contact page, `/account`) gets the same news by
e-mail too: one more row per change with `channel = "email"` and its own key, sent through the
e-mail connector the same way.
"""

from __future__ import annotations

import logging
import tomllib
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session

from connectors.sdk import ConnectorError
from engine import audit
from engine.core.outcomes import CaseStatus
from engine.core.statuses import TaskStatus
from engine.db.base import utcnow
from engine.db.models import (
    CitizenContact,
    Deployment,
    Instance,
    Notification,
    OutboxMessage,
    Payment,
    SignInChallenge,
)
from engine.services import casefile
from engine.services.notify import send_mail, send_sms
from engine.services.runtime import Runtime

log = logging.getLogger("panjereh.notifications")
LOCALE_DIR = Path(__file__).resolve().parents[2] / "forms" / "locale"
LANGUAGES = ("fa", "en")
SMS = "sms"
EMAIL = "email"
# Which status changes the citizen hears about; a draft is theirs alone, and a technical
# problem is staff's to fix (the case page says so when they look).
TOLD = frozenset({CaseStatus.IN_PROGRESS, CaseStatus.WAITING_FOR_YOU, CaseStatus.APPROVED, CaseStatus.REFUSED,
                  CaseStatus.NEEDS_INFORMATION, CaseStatus.WITHDRAWN})
# A claim older than this is taken as a sender that died mid-send; the gateway's idempotency
# key makes the second send harmless if the first one did reach it.
CLAIM_TIMEOUT = timedelta(minutes=5)
# The background sweep tries a pending message once a minute, so this is about an hour of an
# SMS gateway refusing it; after that only `panjereh notifications send` tries again.
MAX_SEND_ATTEMPTS = 60
_CHANGED = "panjereh.notifications.changed"
_WRITTEN = "panjereh.notifications.written"


@cache
def templates(lang: str) -> dict[str, str]:
    """The `[notify]` texts of `forms/locale/<lang>.toml`."""
    texts = tomllib.loads((LOCALE_DIR / f"{lang}.toml").read_text(encoding="utf-8")).get("notify", {})
    return {k: v for k, v in texts.items() if isinstance(v, str)}


@dataclass(frozen=True)
class SentMessage:
    """A message about a case, as the case page lists it."""

    channel: str
    status: str
    body: str
    created_at: Any
    sent_at: Any


def _step(session: Session, case: Instance, progress: casefile.Progress, status: CaseStatus) -> str:
    """What makes this change distinct from an earlier one with the same status: the citizen's
    step that waits, or which fee the case asks (a second instalment is news). Being sent is
    news once: a later answer of the citizen's own, or a payment, tells them nothing new."""
    if status is not CaseStatus.WAITING_FOR_YOU:
        return ""
    citizen = [s for s in progress.steps if s.audience == "citizen"]
    ready = next((s.id for s in reversed(citizen) if s.status is TaskStatus.READY), None)
    if ready is not None or not progress.awaiting_payment:
        return ready or ""
    # Each fee the model asks starts with a payment row its service task made (a citizen's new
    # try after a cancel has none), so their count tells the fees apart.
    asked = session.execute(select(func.count()).select_from(Payment).where(
        Payment.instance_id == case.id, Payment.call_id.is_not(None))).scalar_one()
    return f"payment-{asked}"


def _mobile(session: Session, national_code: str) -> str | None:
    """The mobile the citizen last signed in with (the operators' registry said it is theirs)."""
    return session.execute(
        select(SignInChallenge.mobile).where(SignInChallenge.national_code == national_code,
                                             SignInChallenge.used_at.is_not(None))
        .order_by(SignInChallenge.used_at.desc()).limit(1)).scalar_one_or_none()


def _contact(session: Session, national_code: str) -> tuple[str, str | None]:
    """The language the citizen's messages are written in, and their e-mail address if they gave one."""
    contact = session.get(CitizenContact, national_code)
    if contact is None:
        return "fa", None
    return (contact.lang if contact.lang in LANGUAGES else "fa"), contact.email


def record(session: Session, case: Instance) -> list[Notification]:
    """Write the messages for `case`'s status change, if it made one the citizen hears about:
    a text to their mobile, and an e-mail if they gave an address."""
    deployment = session.get(Deployment, case.deployment_id)
    card: Mapping[str, Any] = (deployment.service if deployment is not None else None) or {}
    progress = casefile.progress(session, case)
    standing = casefile.standing(case, progress, card)
    if standing.status not in TOLD or standing.deleted:
        # A deleted draft was never sent: there is nothing to tell anyone.
        return []
    key = f"{case.id}:{standing.status}:{_step(session, case, progress, standing.status)}"
    if session.execute(select(Notification.id).where(Notification.key == key)).first() is not None:
        return []
    mobile = _mobile(session, case.owner)
    if mobile is None:
        # Cases started for someone who never signed in here (through the API) have nobody to text.
        return []
    lang, email = _contact(session, case.owner)
    texts = templates(lang)
    title = card.get("title") or {}
    body = texts[str(standing.status)].format(
        service=title.get(lang) or case.process_key, code=case.tracking_code,
        reason=standing.reason or "").strip()
    rows = [Notification(key=key, instance_id=case.id, status=str(standing.status), channel=SMS, recipient=mobile,
                         lang=lang, body=body, attempts=0)]
    if email:
        rows.append(Notification(key=f"{key}:{EMAIL}", instance_id=case.id, status=str(standing.status),
                                 channel=EMAIL, recipient=email, lang=lang, body=body, attempts=0))
    session.add_all(rows)
    return rows


def record_for_parties(session: Session, case: Instance) -> list[Notification]:
    """Write a message to each other citizen a step of `case` now waits for (a seller asked to
    consent), once per step, at the mobile they last signed in with."""
    written = []
    for step in casefile.steps(session, case):
        if step.status is not TaskStatus.READY or not step.citizen or step.citizen == case.owner:
            continue
        key = f"{case.id}:party:{step.id}"
        mobile = _mobile(session, step.citizen)
        if mobile is None or session.execute(select(Notification.id).where(Notification.key == key)).first():
            continue
        deployment = session.get(Deployment, case.deployment_id)
        title = ((deployment.service if deployment is not None else None) or {}).get("title") or {}
        lang, email = _contact(session, step.citizen)
        body = templates(lang)["party_waiting"].format(service=title.get(lang) or case.process_key,
                                                        code=case.tracking_code)
        rows = [Notification(key=key, instance_id=case.id, status=str(CaseStatus.WAITING_FOR_YOU), channel=SMS,
                             recipient=mobile, lang=lang, body=body, attempts=0)]
        if email:
            rows.append(Notification(key=f"{key}:{EMAIL}", instance_id=case.id, status=str(CaseStatus.WAITING_FOR_YOU),
                                     channel=EMAIL, recipient=email, lang=lang, body=body, attempts=0))
        session.add_all(rows)
        written += rows
    return written


def _note_changed(session: Session, *_: Any) -> None:
    ids = {obj.id for obj in (*session.new, *session.dirty) if isinstance(obj, Instance)}
    session.info[_CHANGED] = session.info.get(_CHANGED, set()) | ids


def _before_commit(session: Session) -> None:
    _note_changed(session)
    written: list[Notification] = session.info.setdefault(_WRITTEN, [])
    for case_id in sorted(session.info.pop(_CHANGED, set())):
        case = session.get(Instance, case_id)
        if case is not None:
            written.extend(record(session, case))
            written += record_for_parties(session, case)
    if written:
        session.flush()


def watch(runtime: Runtime, deliver: Callable[[list[int]], None] | None = None) -> None:
    """Record a message with every status change the runtime's write sessions commit, and hand
    the ids written to `deliver` after the commit (by default, sent at once).

    SQLAlchemy keeps these listeners on the session factory's class, in a registry that holds
    the class weakly and the listeners strongly. A listener holding the runtime would hold
    the factory and its class too, so no runtime a process builds would ever be freed (a test
    run builds hundreds, and each kept its engines, packages and app): the default sender
    reaches the runtime through a weak reference, and `deliver` must not hold it either.
    """
    owner = weakref.ref(runtime)

    def deliver_to_owner(ids: list[int]) -> None:
        alive = owner()
        if alive is not None:  # else the messages stay pending for `deliver_pending`
            deliver_ids(alive, ids)

    send = deliver or deliver_to_owner

    def after_commit(session: Session) -> None:
        ids = [row.id for row in session.info.pop(_WRITTEN, [])]
        if not ids:
            return
        try:
            send(ids)
        except Exception:
            # The change is committed and its messages are kept; failing the caller now would
            # tell them the change failed. `deliver_pending` sends them later.
            log.exception("messages %s were recorded but not handed over", ids)

    def after_rollback(session: Session) -> None:
        session.info.pop(_WRITTEN, None)
        session.info.pop(_CHANGED, None)

    event.listen(runtime.sessions, "before_flush", _note_changed)
    event.listen(runtime.sessions, "before_commit", _before_commit)
    event.listen(runtime.sessions, "after_commit", after_commit)
    event.listen(runtime.sessions, "after_soft_rollback", lambda session, _: after_rollback(session))


def _claim(runtime: Runtime, notification_id: int) -> Notification | None:
    """Take the row for this sender alone; None when it is sent or another sender holds it."""
    now = utcnow()
    with runtime.unit_of_work() as session:
        claimed = session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.sent_at.is_(None),
                   or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - CLAIM_TIMEOUT))
            .values(claimed_at=now, attempts=Notification.attempts + 1)
            .execution_options(synchronize_session=False))
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        row = session.get(Notification, notification_id)
        if row is not None:
            session.expunge(row)
        return row


def _send(runtime: Runtime, row: Notification) -> str:
    """Hand one message to its channel's connector, keyed so a retried send reaches nobody twice."""
    assert row.recipient is not None
    key = f"panjereh-notify-{row.key}"
    if row.channel == EMAIL:
        subject = templates(row.lang)["subject"]
        return send_mail(runtime, row.recipient, subject, row.body, purpose="case-status", case_id=row.instance_id,
                         idempotency_key=key)
    return send_sms(runtime, row.recipient, row.body, purpose="case-status", case_id=row.instance_id,
                    idempotency_key=key)


def deliver_ids(runtime: Runtime, ids: Iterable[int]) -> int:
    """Send the messages `ids` that are still pending; the number sent. A failed send is kept
    pending (with its error) for the next `deliver_pending`; it never fails the caller."""
    sent = 0
    for notification_id in ids:
        row = _claim(runtime, notification_id)
        if row is None or row.recipient is None:
            continue
        try:
            gateway_id = _send(runtime, row)
        except ConnectorError as error:
            log.warning("message %s about case %s not sent yet: %s", row.id, row.instance_id, error)
            with runtime.unit_of_work() as session:
                session.execute(update(Notification).where(Notification.id == row.id)
                                .values(claimed_at=None, last_error=str(error)[:1000]))
            continue
        with runtime.unit_of_work() as session:
            session.execute(update(Notification).where(Notification.id == row.id)
                            .values(sent_at=utcnow(), gateway_id=gateway_id, last_error=None))
            if runtime.settings.environment == "development":
                # The development outbox (/dev/outbox) shows what a citizen's phone would have got.
                session.add(OutboxMessage(channel=row.channel, recipient=row.recipient, body=row.body))
        sent += 1
    return sent


def deliver_pending(runtime: Runtime, limit: int = 100, max_attempts: int | None = None) -> int:
    """Send the messages still pending (a gateway that was down, a sender that died); with
    `max_attempts`, only those tried fewer times (the background sweep gives up on a message the
    gateway keeps refusing, where an operator's `panjereh notifications send` tries them all)."""
    pending = select(Notification.id).where(Notification.sent_at.is_(None), Notification.recipient.is_not(None))
    if max_attempts is not None:
        pending = pending.where(Notification.attempts < max_attempts)
    with runtime.reading() as session:
        ids = list(session.execute(pending.order_by(Notification.id).limit(limit)).scalars())
    return deliver_ids(runtime, ids)


def for_case(session: Session, case_id: str) -> list[SentMessage]:
    """The messages about a case sent to its owner, oldest first, for its page (those to another
    citizen asked for a step are theirs)."""
    rows = session.execute(select(Notification).where(Notification.instance_id == case_id,
                                                      Notification.key.not_like("%:party:%"))
                           .order_by(Notification.id)).scalars()
    return [SentMessage(r.channel, r.status, r.body, r.created_at, r.sent_at) for r in rows]


def remember_language(runtime: Runtime, national_code: str, lang: str) -> None:
    """Write the citizen's messages in `lang` from now on."""
    if lang not in LANGUAGES:
        return
    with runtime.unit_of_work() as session:
        contact = session.get(CitizenContact, national_code)
        if contact is None:
            session.add(CitizenContact(national_code=national_code, lang=lang))
        elif contact.lang != lang:
            contact.lang = lang


def email_of(runtime: Runtime, national_code: str) -> str | None:
    """The address the citizen gave for news of their cases, if any."""
    with runtime.reading() as session:
        contact = session.get(CitizenContact, national_code)
        return contact.email if contact is not None else None


def set_email(runtime: Runtime, national_code: str, email: str | None, lang: str) -> None:
    """Send the citizen's news to `email` too from now on (None: by text message only); audited,
    without the address itself (the audit log is kept longer than a contact detail should be)."""
    with runtime.unit_of_work() as session:
        contact = session.get(CitizenContact, national_code)
        if contact is None:
            session.add(CitizenContact(national_code=national_code, lang=lang if lang in LANGUAGES else "fa",
                                       email=email))
        else:
            contact.email = email
        audit.append(session, national_code, "contact.email_changed", subject=None,
                     detail={"email": "given" if email else "removed"})
