"""The sandbox's access log: one entry per request to an agency, as an X-Road security server keeps.

X-Road records which client asked which service, and why (``X-Road-Issue``); Panjereh's connectors send
the case and purpose as ``X-Panjereh-Case`` and ``X-Panjereh-Purpose``, and tests read them back here to
prove every inquiry was made for a stated case. Kept in memory and bounded: a demo aid, not evidence.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# Header values are client-controlled; bound what one entry can hold.
MAX_HEADER_CHARS = 200


@dataclass(frozen=True)
class LogEntry:
    at: str
    request_id: str
    service: str
    method: str
    path: str
    query: str
    status: int
    client: str
    case: str | None
    purpose: str | None
    idempotency_key: str | None
    replayed: bool
    injected: str | None
    duration_ms: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def clip(value: str | None) -> str | None:
    return None if value is None else value[:MAX_HEADER_CHARS]


class AccessLog:
    """The latest entries, oldest first."""

    def __init__(self, size: int) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=size)

    def add(self, entry: LogEntry) -> None:
        self._entries.append(entry)

    def select(self, service: str | None = None, case: str | None = None, limit: int = 100) -> list[LogEntry]:
        """The newest `limit` entries matching, oldest first."""
        found = [e for e in self._entries if (service is None or e.service == service)
                 and (case is None or e.case == case)]
        return found[-limit:] if limit > 0 else []
