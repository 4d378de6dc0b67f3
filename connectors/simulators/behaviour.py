"""Real-system behaviour in front of each simulated agency, as ASGI middleware.

A request passes, in order: latency (fixed + jitter); outage (503, ``Retry-After`` when the outage
has an end); rate limit (429 + ``Retry-After``, per client per fixed window); body size (413);
idempotency (replay, or wait for the same key in flight); injected failure (``fail_every`` /
``error_rate``, before the agency acts or, with ``fail_after_side_effect``, after it acted and the answer
is lost); then the agency. Every answer echoes ``X-Panjereh-Case`` and ``X-Panjereh-Purpose``, carries
``X-Panjereh-Request-Id`` and is written to the access log.

The client, for rate limits and idempotency keys, is the ``X-Panjereh-Client`` header, else the peer
address. State lives in memory in one process and is touched only on the event loop (agency routes
are ``async``), so no locks: one uvicorn worker per sandbox.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.simulators.access_log import AccessLog, LogEntry, clip
from connectors.simulators.idempotency import Answer, IdempotencyStore, KeyReused, fingerprint
from connectors.simulators.settings import Behaviour, SandboxSettings

ECHOED = ("x-panjereh-case", "x-panjereh-purpose")
MAX_KEY_CHARS = 255
_MAX_RATE_CLIENTS = 10_000


class ServiceState:
    """One agency's switches and counters."""

    def __init__(self, service: str, behaviour: Behaviour, idempotency_size: int) -> None:
        self.service = service
        self.behaviour = behaviour
        self.down_until: float | None = math.inf if behaviour.down else None
        self.requests = 0  # requests that reached the failure stage; fail_every counts these
        self.side_effects = 0  # things the agency did (an SMS recorded), counted by the agency
        self.replays = IdempotencyStore(idempotency_size)
        self._windows: dict[str, tuple[float, int]] = {}

    def set_down(self, down: bool, seconds: float | None, now: float) -> None:
        self.down_until = None if not down else math.inf if seconds is None else now + seconds

    def outage_left(self, now: float) -> float | None:
        """Seconds until the outage ends (inf: until switched off), or None when up."""
        if self.down_until is None or self.down_until <= now:
            self.down_until = None
            return None
        return self.down_until - now

    def admit(self, client: str, now: float) -> float | None:
        """None to let the request in, else the seconds until this client's window reopens."""
        limit, window = self.behaviour.rate_limit, self.behaviour.rate_window_s
        if not limit:
            return None
        start, count = self._windows.get(client, (now, 0))
        if now - start >= window:
            start, count = now, 0
        if count >= limit:
            return start + window - now
        self._windows[client] = (start, count + 1)
        if len(self._windows) > _MAX_RATE_CLIENTS:  # spoofed client ids must not grow memory forever
            self._windows = {c: w for c, w in self._windows.items() if now - w[0] < window}
        return None

    def failure_due(self, rng: random.Random) -> bool:
        self.requests += 1
        every, rate = self.behaviour.fail_every, self.behaviour.error_rate
        return bool(every and self.requests % every == 0) or (rate > 0 and rng.random() < rate)


class Sandbox:
    """Everything the agencies share: settings, per-agency state, the access log, the clocks."""

    def __init__(self, settings: SandboxSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        # Faults and jitter are simulated, not secrets; a seeded generator makes a run repeatable.
        self.rng = random.Random(settings.seed)  # noqa: S311
        self.log = AccessLog(settings.log_size)
        self.services: dict[str, ServiceState] = {}
        self._requests = 0

    def add_service(self, service: str) -> ServiceState:
        state = ServiceState(service, self.settings.behaviour_of(service), self.settings.idempotency_size)
        self.services[service] = state
        return state

    def next_request_id(self) -> str:
        self._requests += 1
        return f"sandbox-{self._requests:08d}"


class _ClientGone(Exception):
    pass


class AgencyGate:
    """ASGI middleware that makes one agency app behave like a real, imperfect government system."""

    def __init__(self, app: ASGIApp, state: ServiceState, sandbox: Sandbox) -> None:
        self.app = app
        self.state = state
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        headers = Headers(scope=scope)
        client = headers.get("x-panjereh-client") or (scope["client"][0] if scope.get("client") else "unknown")
        try:
            body = await _read_body(receive, self.sandbox.settings.max_body_bytes)
        except _ClientGone:
            return
        await self._delay()
        answer, injected, replayed = await self._answer(scope, receive, headers, client, body)
        request_id = self.sandbox.next_request_id()
        extra = [(b"x-panjereh-request-id", request_id.encode())]
        extra += [(name.encode(), value.encode("latin-1")) for name in ECHOED if (value := headers.get(name))]
        if replayed:
            extra.append((b"idempotent-replayed", b"true"))
        answer = answer.with_headers(extra)
        self.sandbox.log.add(LogEntry(
            at=datetime.now(UTC).isoformat(timespec="milliseconds"), request_id=request_id,
            service=self.state.service, method=scope["method"], path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"), status=answer.status, client=clip(client) or "",
            case=clip(headers.get("x-panjereh-case")), purpose=clip(headers.get("x-panjereh-purpose")),
            idempotency_key=clip(headers.get("idempotency-key")), replayed=replayed, injected=injected,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        ))
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def _delay(self) -> None:
        behaviour = self.state.behaviour
        delay = behaviour.latency_ms + (self.sandbox.rng.uniform(0, behaviour.jitter_ms) if behaviour.jitter_ms else 0)
        if delay:
            await asyncio.sleep(delay / 1000)

    async def _answer(self, scope: Scope, receive: Receive, headers: Headers, client: str,
                      body: bytes | None) -> tuple[Answer, str | None, bool]:
        """The answer, what was injected instead of the agency's own (if anything), and whether replayed."""
        now = self.sandbox.clock()
        left = self.state.outage_left(now)
        if left is not None:
            retry = {} if math.isinf(left) else {"Retry-After": str(max(1, math.ceil(left)))}
            return Answer.json(503, {"error": "service-unavailable", "detail": f"{self.state.service} is down"},
                               retry), "outage", False
        wait = self.state.admit(client, now)
        if wait is not None:
            return Answer.json(429, {"error": "rate-limited", "detail": "too many requests"},
                               {"Retry-After": str(max(1, math.ceil(wait)))}), "rate-limit", False
        if body is None:
            return Answer.json(413, {"error": "too-large", "detail": "the request body is too large"}), None, False
        key = headers.get("idempotency-key")
        if key is None:
            sent, _, injected = await self._act(scope, receive, body)
            return sent, injected, False
        if not 0 < len(key) <= MAX_KEY_CHARS:
            return Answer.json(400, {"error": "invalid-idempotency-key",
                                     "detail": f"1 to {MAX_KEY_CHARS} characters"}), None, False
        print_ = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        try:
            found = await self.state.replays.replay_or_claim((client, key), print_)
        except KeyReused:
            return Answer.json(422, {"error": "idempotency-key-reused",
                                     "detail": "this key was used for a different request"}), None, False
        if isinstance(found, Answer):
            return found, None, True
        own: Answer | None = None
        try:
            sent, own, injected = await self._act(scope, receive, body)
        finally:
            self.state.replays.settle(found, own)
        return sent, injected, False

    async def _act(self, scope: Scope, receive: Receive, body: bytes) -> tuple[Answer, Answer | None, str | None]:
        """What the client gets, what the agency itself answered (None: it never ran), what was injected."""
        failing = self.state.failure_due(self.sandbox.rng)
        if failing and not self.state.behaviour.fail_after_side_effect:
            return self._failure(), None, "failure"
        own = await _call(self.app, scope, receive, body)
        if failing:
            # The agency acted, then the answer was lost on the way back: what idempotency keys are for.
            return self._failure(), own, "failure-after-side-effect"
        return own, own, None

    def _failure(self) -> Answer:
        return Answer.json(self.state.behaviour.fail_status,
                           {"error": "simulated-failure", "detail": f"{self.state.service} failed (simulated)"})


async def _call(app: ASGIApp, scope: Scope, receive: Receive, body: bytes) -> Answer:
    """Run the agency app on an already-read body and buffer its whole answer."""
    body_sent = False

    async def agency_receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body, only the real client's disconnect can come

    start: Message = {}
    chunks: list[bytes] = []

    async def agency_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, agency_receive, agency_send)
    return Answer(start["status"], list(start.get("headers", [])), b"".join(chunks))


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
