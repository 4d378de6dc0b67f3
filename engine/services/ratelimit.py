"""A sliding-window rate limit kept in the database, so it holds across workers and processes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from engine.db.base import utcnow
from engine.db.models import RateLimitHit


class RateLimited(Exception):
    """Too many attempts; try again after `retry_after` seconds. `reason` is a message key."""

    def __init__(self, retry_after: int, reason: str = "") -> None:
        self.retry_after = retry_after
        self.reason = reason
        super().__init__(f"too many attempts; try again in {retry_after} s")


def _one_at_a_time(session: Session, key: str) -> None:
    # Counting and then inserting is two steps: on PostgreSQL two transactions could both count
    # `limit - 1` and both go through, so a burst of parallel requests would pass the limit by
    # the number of threads. A transaction-scoped advisory lock per key makes them queue. SQLite
    # needs none: every writing transaction there begins IMMEDIATE, so writers already queue.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def hit(session: Session, key: str, limit: int, window: timedelta, reason: str = "") -> None:
    """Count one attempt for `key`; raise RateLimited (with `reason`) when the window already holds `limit`.

    The attempt counts once the caller's transaction commits: callers that refuse something
    after counting must still commit, or the attempt is forgotten.
    """
    _one_at_a_time(session, key)
    now = utcnow()
    since = now - window
    session.execute(delete(RateLimitHit).where(RateLimitHit.key == key, RateLimitHit.at < since))
    count, oldest = session.execute(
        select(func.count(), func.min(RateLimitHit.at)).where(RateLimitHit.key == key, RateLimitHit.at >= since)
    ).one()
    if count >= limit:
        oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        raise RateLimited(max(1, int((oldest_at + window - now).total_seconds())), reason)
    session.add(RateLimitHit(key=key, at=now))
    session.flush()
