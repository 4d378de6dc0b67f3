"""Citizen sign-in without passwords: national code + mobile + a one-time code.

The code is six random digits, kept only as a hash, valid for five minutes and for five
tries; after the fifth wrong code the challenge is locked, the right code included. Every try
is counted in its own committed transaction, so a refused code still counts. Tries are also
limited per national code across all its challenges and per client address, and asking for
codes per national code, per mobile and per client address; all of it is kept in the
database, so the limits hold across processes. In embedded mode the code also goes to the
development outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk import ConnectorError
from engine import audit
from engine.db.base import utcnow
from engine.db.models import OutboxMessage, SignInChallenge
from engine.services.notify import owns_mobile, send_sms
from engine.services.ratelimit import RateLimited, hit
from engine.services.runtime import Runtime
from forms.storable import unstorable_text

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
WINDOW = timedelta(hours=1)
# Per hour. A person needs one or two codes and tries; a shared connection (an office, a
# mobile operator's NAT) serves several people, so the client limits are higher.
REQUESTS_PER_HOUR = 5
REQUESTS_PER_CLIENT = 20
CHECKS_PER_NATIONAL_CODE = 10
CHECKS_PER_CLIENT = 30
CHALLENGE_ID_LENGTH = 36
# What the sign-in page tells a client to wait (Retry-After) when an agency it needs failed:
# the agency's own figure when it gave one (within an hour); a few minutes when the connector
# is not configured, which only an operator can fix; half a minute for a passing failure.
RETRY_AFTER_FAILED = 30
RETRY_AFTER_NOT_CONFIGURED = 300
RETRY_AFTER_LONGEST = 3600


class SignInError(Exception):
    """The sign-in cannot go on; `reason` is a message key for the page."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class SignInUnavailable(SignInError):
    """Another agency needed for sign-in (the mobile registry, the SMS gateway) did not answer;
    `retry_after` is how many seconds to wait before trying again."""

    def __init__(self, reason: str, failure: ConnectorError) -> None:
        super().__init__(reason)
        if failure.retry_after is not None:
            wait = math.ceil(failure.retry_after)
        else:
            wait = RETRY_AFTER_FAILED if failure.retryable else RETRY_AFTER_NOT_CONFIGURED
        self.retry_after = min(max(wait, 1), RETRY_AFTER_LONGEST)


@dataclass(frozen=True)
class Challenge:
    id: str
    masked_mobile: str


def _digest(challenge_id: str, code: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(runtime: Runtime, national_code: str, mobile: str, client: str, message: str) -> Challenge:
    """Text a new one-time code to `mobile`, once the registry says it is `national_code`'s.

    `message` is the SMS text with `{code}` where the code goes; `client` is the requester's
    address (see `engine.services.clients`).

    Raises:
        RateLimited: too many codes asked from this client, for this person or for this phone.
        SignInUnavailable: the mobile registry or the SMS gateway failed.
        SignInError: the mobile is not registered to the national code.
    """
    with runtime.unit_of_work() as session:
        # Counted before the registry is asked, so the form is no free oracle of who owns which phone.
        hit(session, f"sign-in:client:{client}", REQUESTS_PER_CLIENT, WINDOW, "signin.too_many_here")
    try:
        owned = owns_mobile(runtime, national_code, mobile)
    except ConnectorError as err:
        raise SignInUnavailable("signin.check_failed", err) from err
    if not owned:
        raise SignInError("signin.mobile_not_owned")
    with runtime.unit_of_work() as session:
        challenge, text = _new_challenge(session, national_code, mobile, runtime.settings.secret_key.get_secret_value(),
                                         message, keep_copy=runtime.settings.environment == "development")
    try:
        send_sms(runtime, mobile, text, purpose="sign-in", case_id=challenge.id)
    except ConnectorError as err:
        raise SignInUnavailable("signin.sms_failed", err) from err
    return challenge


def _new_challenge(session: Session, national_code: str, mobile: str, secret: str, message: str,
                   *, keep_copy: bool) -> tuple[Challenge, str]:
    hit(session, f"sign-in:nc:{national_code}", REQUESTS_PER_HOUR, WINDOW, "signin.too_many")
    hit(session, f"sign-in:mobile:{mobile}", REQUESTS_PER_HOUR, WINDOW, "signin.too_many")
    code = f"{secrets.randbelow(10**6):06d}"
    challenge_id = str(uuid.uuid4())
    session.add(SignInChallenge(id=challenge_id, national_code=national_code, mobile=mobile,
                                code_hash=_digest(challenge_id, code, secret), attempts=0,
                                expires_at=utcnow() + CODE_TTL))
    text = message.format(code=code)
    if keep_copy:
        session.add(OutboxMessage(channel="sms", recipient=mobile, body=text))
    return Challenge(challenge_id, mobile[:4] + "•••" + mobile[-4:]), text


def verify(runtime: Runtime, challenge_id: str, code: str, client: str) -> str:
    """The national code the challenge proves.

    The try is counted and committed whatever the outcome, before the outcome is raised.

    Raises:
        RateLimited: too many tries from this client or for this national code.
        SignInError: the code is wrong, or the challenge is unknown, used, expired or locked.
    """
    with runtime.unit_of_work() as session:
        outcome = _check(session, challenge_id, code, client, runtime.settings.secret_key.get_secret_value())
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _check(session: Session, challenge_id: str, code: str, client: str,
           secret: str) -> str | SignInError | RateLimited:
    """Count one try and judge it; a refusal is returned, not raised, so the count is committed."""
    try:
        hit(session, f"sign-in-check:client:{client}", CHECKS_PER_CLIENT, WINDOW, "signin.checks_too_many")
    except RateLimited as limited:
        return limited
    if len(challenge_id) != CHALLENGE_ID_LENGTH or unstorable_text(challenge_id):
        # Not an id this server gives out (a form's hidden field is whatever the sender wrote).
        return SignInError("signin.code_unknown")
    challenge = session.execute(
        select(SignInChallenge).where(SignInChallenge.id == challenge_id).with_for_update()
    ).scalar_one_or_none()
    if challenge is None or challenge.used_at is not None:
        return SignInError("signin.code_unknown")
    if challenge.expires_at < utcnow():
        return SignInError("signin.code_expired")
    try:
        hit(session, f"sign-in-check:nc:{challenge.national_code}", CHECKS_PER_NATIONAL_CODE, WINDOW,
            "signin.checks_too_many")
    except RateLimited as limited:
        return limited
    if challenge.attempts >= MAX_ATTEMPTS:
        return SignInError("signin.code_attempts")
    challenge.attempts += 1
    if not hmac.compare_digest(challenge.code_hash, _digest(challenge.id, code.strip(), secret)):
        return SignInError("signin.code_attempts" if challenge.attempts >= MAX_ATTEMPTS else "signin.code_wrong")
    challenge.used_at = utcnow()
    audit.append(session, f"citizen:{challenge.national_code}", "citizen.signed_in",
                 detail={"mobile": challenge.mobile[-4:]})
    return challenge.national_code


def outbox(session: Session, limit: int = 20) -> list[OutboxMessage]:
    """The newest messages kept in the development outbox."""
    return list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).scalars())


__all__ = ["Challenge", "RateLimited", "SignInError", "SignInUnavailable", "outbox", "request_code", "verify"]
