"""A sliding-window rate limit kept in the database, so it holds across workers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.db.base import utcnow
from engine.db.models import RateLimitHit


class RateLimited(Exception):
    """Too many attempts; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many attempts; try again in {retry_after} s")


def hit(session: Session, key: str, limit: int, window: timedelta) -> None:
    """Count one attempt for `key`; raise RateLimited when the window already holds `limit`."""
    now = utcnow()
    since = now - window
    session.execute(delete(RateLimitHit).where(RateLimitHit.key == key, RateLimitHit.at < since))
    count, oldest = session.execute(
        select(func.count(), func.min(RateLimitHit.at)).where(RateLimitHit.key == key, RateLimitHit.at >= since)
    ).one()
    if count >= limit:
        oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        raise RateLimited(max(1, int((oldest_at + window - now).total_seconds())))
    session.add(RateLimitHit(key=key, at=now))
