"""API bearer tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import limits
from engine.db.models import ApiToken
from engine.security.principals import Principal, Role
from forms.storable import unstorable_text

PREFIX = "pj_"
# The audit log and every "who did it" column keep the caller as "role:name".
MAX_NAME = min(limits.TOKEN_NAME.length, limits.ACTOR.length - max(len(role.value) for role in Role) - 1)


class TokenError(ValueError):
    """The token request is not acceptable (unknown role, missing agency, taken name)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, role: str, name: str, agency: str | None = None) -> str:
    """Store a new token for `name` in `role` and return it; only its hash is kept."""
    try:
        parsed = Role(role)
    except ValueError as err:
        raise TokenError(f"unknown role '{role}'; choose one of {', '.join(r.value for r in Role)}") from err
    if parsed is Role.STAFF and not agency:
        raise TokenError("a staff token needs --agency: staff see only their agency's tasks")
    if not name.strip():
        raise TokenError("a token needs a name")
    if len(name) > MAX_NAME:
        raise TokenError(f"a token name may be at most {MAX_NAME} characters (it is {len(name):,})")
    if agency is not None and not limits.AGENCY.fits(agency):
        raise TokenError(limits.AGENCY.too_long(agency))
    for text in (name, agency or ""):
        problem = unstorable_text(text)
        if problem:
            raise TokenError(f"token names and agency codes {problem}")
    if session.execute(select(ApiToken.id).where(ApiToken.name == name)).first():
        raise TokenError(f"a token named '{name}' already exists")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=parsed.value, agency=agency if parsed is Role.STAFF else None,
                         token_hash=_digest(token)))
    return token


def resolve(session: Session, token: str, admin_token: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(Role.ADMIN, "automation")
    if not token.startswith(PREFIX):
        return None
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        return None
    return Principal(Role(row.role), row.name, row.agency)
