"""Save and return: a citizen's answers on a task, kept page by page until they submit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.db.models import Draft


def load(session: Session, task_id: str, owner: str) -> dict[str, Any]:
    draft = session.get(Draft, task_id)
    return dict(draft.data) if draft is not None and draft.owner == owner else {}


def save(session: Session, task_id: str, owner: str, answers: dict[str, Any], drop: set[str]) -> dict[str, Any]:
    """Merge one page's `answers` into the draft; fields in `drop` (left empty) are removed."""
    draft = session.get(Draft, task_id)
    if draft is None:
        draft = Draft(task_id=task_id, owner=owner, data={})
        session.add(draft)
    merged = {k: v for k, v in {**draft.data, **answers}.items() if k not in drop}
    draft.data = merged
    return merged


def discard(session: Session, task_id: str) -> None:
    draft = session.get(Draft, task_id)
    if draft is not None:
        session.delete(draft)
