"""Idempotency keys: a request repeated with the same ``Idempotency-Key`` gets the first answer again.

Only successful (2xx) answers are kept, as Stripe does with validation failures: a request refused or
failed before the agency acted may simply be retried, and runs again. A duplicate that arrives while
the first is still running waits for it instead of acting twice. The same key with a different request
(method, path, query or body) is refused, since replaying would answer a question nobody asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer, buffered so it can be changed, stored and replayed."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @classmethod
    def json(cls, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
        body = json.dumps(payload, ensure_ascii=False).encode()
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
        return cls(status, raw, body)

    def with_headers(self, extra: list[tuple[bytes, bytes]]) -> Answer:
        return Answer(self.status, self.headers + extra, self.body)


class KeyReused(Exception):
    """The key was first used for a different request."""


@dataclass
class Claim:
    """The right to answer a key first; `IdempotencyStore.settle` must follow, whatever happens."""

    key: tuple[str, str]
    fingerprint: str
    answer: asyncio.Future[Answer | None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class IdempotencyStore:
    """Answers by (client, key), the oldest forgotten first once `size` are kept."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._claims: OrderedDict[tuple[str, str], Claim] = OrderedDict()

    async def replay_or_claim(self, key: tuple[str, str], print_: str) -> Answer | Claim:
        """The stored answer for `key`, or a claim to answer it now."""
        while True:
            claim = self._claims.get(key)
            if claim is None:
                claim = self._claims[key] = Claim(key, print_)
                while len(self._claims) > self._size:
                    self._claims.popitem(last=False)
                return claim
            if claim.fingerprint != print_:
                raise KeyReused
            # shield: a waiter that is cancelled must not cancel the first request's future.
            answer = await asyncio.shield(claim.answer)
            if answer is not None:
                return answer
            # The first request released the key without an answer to keep; this one may claim it.

    def settle(self, claim: Claim, answer: Answer | None) -> None:
        """Keep `answer` for the key, or release the key when there is nothing to keep."""
        keep = answer is not None and 200 <= answer.status < 300
        if not keep and self._claims.get(claim.key) is claim:
            del self._claims[claim.key]
        if not claim.answer.done():
            claim.answer.set_result(answer if keep else None)
