"""Citizen sign-in without passwords: national code + mobile + a one-time code.

The code is six random digits, kept only as a hash, valid for five minutes and for five
tries. In embedded mode it goes to the development outbox; an SMS connector replaces that.
Asking for codes is rate-limited per national code and per mobile.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.db.base import utcnow
from engine.db.models import OutboxMessage, SignInChallenge
from engine.services.ratelimit import RateLimited, hit

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
REQUESTS_PER_HOUR = 5


class SignInError(Exception):
    """The code is wrong, expired or used up; `reason` is a message key for the page."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Challenge:
    id: str
    masked_mobile: str


def _digest(challenge_id: str, code: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def start(session: Session, national_code: str, mobile: str, secret: str, message: str,
          *, keep_copy: bool) -> tuple[Challenge, str]:
    """A new one-time code for `mobile`: the challenge, and the SMS text to send (`message`
    with `{code}` filled in). `keep_copy` also files the text in the development outbox.

    Raises:
        RateLimited: too many codes asked for this person or phone recently.
    """
    hit(session, f"sign-in:nc:{national_code}", REQUESTS_PER_HOUR, timedelta(hours=1))
    hit(session, f"sign-in:mobile:{mobile}", REQUESTS_PER_HOUR, timedelta(hours=1))
    code = f"{secrets.randbelow(10**6):06d}"
    challenge_id = str(uuid.uuid4())
    session.add(SignInChallenge(id=challenge_id, national_code=national_code, mobile=mobile,
                                code_hash=_digest(challenge_id, code, secret), attempts=0,
                                expires_at=utcnow() + CODE_TTL))
    text = message.format(code=code)
    if keep_copy:
        session.add(OutboxMessage(channel="sms", recipient=mobile, body=text))
    return Challenge(challenge_id, mobile[:4] + "•••" + mobile[-4:]), text


def verify(session: Session, challenge_id: str, code: str, secret: str) -> str:
    """The national code the challenge proves, or SignInError."""
    challenge = session.execute(
        select(SignInChallenge).where(SignInChallenge.id == challenge_id).with_for_update()
    ).scalar_one_or_none()
    if challenge is None or challenge.used_at is not None:
        raise SignInError("signin.code_unknown")
    if challenge.expires_at < utcnow():
        raise SignInError("signin.code_expired")
    if challenge.attempts >= MAX_ATTEMPTS:
        raise SignInError("signin.code_attempts")
    challenge.attempts += 1
    if not hmac.compare_digest(challenge.code_hash, _digest(challenge_id, code.strip(), secret)):
        raise SignInError("signin.code_wrong")
    challenge.used_at = utcnow()
    audit.append(session, f"citizen:{challenge.national_code}", "citizen.signed_in",
                 detail={"mobile": challenge.mobile[-4:]})
    return challenge.national_code


def outbox(session: Session, limit: int = 20) -> list[OutboxMessage]:
    return list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).scalars())


__all__ = ["Challenge", "RateLimited", "SignInError", "outbox", "start", "verify"]
