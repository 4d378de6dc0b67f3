"""Signed-cookie sessions and CSRF tokens for the HTML pages.

The cookie holds only who signed in, their role and a CSRF secret, signed with the
server's secret key and refused when older than its maximum age. Every state-changing
form carries the CSRF token, and the server compares it in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "panjereh_session"
LANG_COOKIE = "panjereh_lang"
MAX_AGE_SECONDS = 8 * 3600


@dataclass
class WebSession:
    """What the browser carries between requests."""

    subject: str | None = None
    role: str | None = None
    agency: str | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    changed: bool = False

    def sign_in(self, subject: str, role: str, agency: str | None = None) -> None:
        self.subject, self.role, self.agency = subject, role, agency
        self.csrf = secrets.token_urlsafe(24)  # a new secret on privilege change
        self.changed = True

    def sign_out(self) -> None:
        self.subject = self.role = self.agency = None
        self.csrf = secrets.token_urlsafe(24)
        self.changed = True

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="panjereh-web-session")


def load(request: Request, secret: str) -> WebSession:
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data: dict[str, Any] = _serializer(secret).loads(raw, max_age=MAX_AGE_SECONDS)
            return WebSession(data.get("s"), data.get("r"), data.get("a"), data.get("c") or secrets.token_urlsafe(24))
        except BadSignature:
            pass
    return WebSession(changed=True)


def store(response: Response, session: WebSession, secret: str, secure: bool) -> None:
    value = _serializer(secret).dumps({"s": session.subject, "r": session.role, "a": session.agency, "c": session.csrf})
    response.set_cookie(COOKIE, value, max_age=MAX_AGE_SECONDS, httponly=True, samesite="lax", secure=secure,
                        path="/")
