"""What every unit of work shares: settings, database sessions, compiled packages, connectors,
and where connector calls go once a transaction commits.

A runtime is built by the composition root (`engine.compose`), for the server, the Celery
worker and the command line alike, and never changed afterwards: every field is set at
construction (the dataclass is frozen), so what a request sees is what the process was
started with. What does change while it runs (the package cache, the dispatcher's queue and
tick, the connection pools) lives inside the objects it holds, each safe across threads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.call_context import make_context
from connectors.registry import Operation, Registry
from connectors.sdk import ConnectorContext
from engine.core.changes import ChangeLimits
from engine.core.isolated_changes import ChangeRunner
from engine.db.base import touch_every_table
from engine.db.failures import Failure, classify, driver_message, refusal
from engine.services.errors import Conflict, LostRace, Unavailable, Unstorable
from engine.services.outbox import take_posted
from engine.services.package_cache import PackageCache
from engine.settings import Settings

log = logging.getLogger("panjereh.database")
# Seconds a client is told to wait (Retry-After) before sending the same request again.
RETRY_AFTER_BUSY = 2
RETRY_AFTER_UNREACHABLE = 10
# The longest the health probe waits for the database, whatever PANJEREH_DATABASE_TIMEOUT_SECONDS
# says: a load balancer asking "can this server work?" wants an answer, not a queue.
PROBE_SECONDS = 1.0


class ExpressionEnvironment(Protocol):
    """Where the script engine evaluates an expression outside any task (a timer start event's)."""

    def evaluate(self, expression: str, context: dict[str, Any]) -> Any: ...


class ScriptEngine(Protocol):
    """The sandboxed script engine (`engine.core.execution.make_script_engine`), as far as the
    services use it; SpiffWorkflow ships no type hints, so this says what is relied on."""

    @property
    def environment(self) -> ExpressionEnvironment: ...


class Dispatcher(Protocol):
    """Where connector calls go once the transaction that wrote them commits
    (`engine.services.dispatch`: in this process, or to Celery workers through the broker).

    The runtime is handed in, not held: the dispatcher is part of the runtime it runs calls with.
    """

    def hand_over(self, runtime: Runtime, call_ids: Sequence[str]) -> None:
        """Run, or send to be run, the committed calls `call_ids`; never raises for a call."""

    def start(self, runtime: Runtime) -> None:
        """Begin running what falls due later (retries, timers), where this process does that."""

    def stop(self) -> None:
        """Stop what `start` began."""


@dataclass(frozen=True, eq=False)
class Runtime:
    """Settings, database and engine pieces shared by every request and job; built by `engine.compose`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    reader_engine: Engine | None  # SQLite's separate query_only engine; PostgreSQL reads on `engine`
    # The health probe's own engine, so it never queues behind requests for a pooled connection.
    probe_engine: Engine
    script_engine: ScriptEngine
    # What one change of an instance may spend: steps, seconds, and the sandbox's limits.
    change_limits: ChangeLimits
    # Where changes run: model worker processes, or this process (see engine/compose.py).
    changes: ChangeRunner
    connectors: Registry
    dispatcher: Dispatcher
    packages: PackageCache
    connector_transport: httpx.BaseTransport | None = None  # tests route connector HTTP through their own

    def connector_context(self, operation: Operation, *, case_id: str, purpose: str, end_user: str | None,
                          attempt: int, idempotency_key: str, logger: logging.Logger) -> ConnectorContext:
        """The per-call context every connector call gets: timeouts, headers, its own secrets only."""
        secrets = {name: value.get_secret_value() for name, value in self.settings.secrets.items()}
        return make_context(timeout=self.settings.connector_timeout_seconds, case_id=case_id, purpose=purpose,
                            end_user=end_user, attempt=attempt, idempotency_key=idempotency_key,
                            connector_id=operation.connector_id, secrets=secrets,
                            connector_ids=self.connectors.installed, logger=logger,
                            transport=self.connector_transport)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        The commit happens when the `with` block ends, inside the caller: an API route or a
        page that answers after its block has therefore answered about a committed change,
        and a commit that fails raises here, where the caller turns it into an error
        response. A lost race surfaces as `LostRace`, a refused constraint as `Conflict`, a
        busy or unreachable database as `Unavailable`, a value the database cannot keep as
        `Unstorable` (engine/db/failures.py tells them apart).

        Connector calls the transaction wrote are handed to the dispatcher only after the
        commit, so a worker never looks for a row that is not there yet.
        """
        with _database_failures(), self.sessions() as session:
            with session.begin():
                yield session
            written = take_posted(session)
        if written:
            self.dispatcher.hand_over(self, written)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only; a write in it fails loudly instead of being lost.

        On SQLite it runs on the `query_only` reader engine and never takes the write lock;
        on PostgreSQL it is a READ ONLY transaction.
        """
        with _database_failures(), self.readers() as session:
            yield session

    def probe(self) -> None:
        """Check that the database answers a read of every table within `PROBE_SECONDS`.

        The probe has an engine of its own, so it never queues behind requests for a pooled
        connection or a request thread; a table that a lock keeps readers out of (LOCK TABLE,
        a migration) counts as busy, since every request that reads it would wait too.

        Raises:
            Unavailable: the database is busy, locked or unreachable.
        """
        with _database_failures(), self.probe_engine.execution_options(postgresql_readonly=True).connect() as conn:
            touch_every_table(conn)

    def close(self) -> None:
        """Stop the dispatcher's background work and close every connection."""
        self.dispatcher.stop()
        for engine in self._engines():
            engine.dispose()

    def drop_inherited(self) -> None:
        """In a forked child: forget the parent's pooled connections without closing them
        (they are still the parent's); the child opens its own."""
        for engine in self._engines():
            engine.dispose(close=False)

    def _engines(self) -> list[Engine]:
        return [self.engine, *([self.reader_engine] if self.reader_engine is not None else []), self.probe_engine]


@contextmanager
def _database_failures() -> Iterator[None]:
    """Database errors the caller can act on, as service errors (see engine/db/failures.py)."""
    try:
        yield
    except Exception as error:
        failure = classify(error)
        if failure is None:
            raise
        if failure is Failure.DATA:
            # A value got this far without a bound that should have stopped it earlier: the log
            # says which, in the driver's words; the caller learns what kind of value it was.
            log.warning("database refused a value: %s", driver_message(error))
            raise Unstorable(refusal(error)) from error
        # The driver's words name tables and constraints: they go to the log, not to the caller.
        log.warning("database %s: %s", failure.value, error)
        if failure is Failure.RACE:
            raise LostRace("another change to the same case was made at the same moment; nothing was saved; "
                           "reload and retry") from error
        if failure is Failure.CONFLICT:
            raise Conflict("the change conflicts with what is stored; nothing was saved") from error
        if failure is Failure.BUSY:
            raise Unavailable("the database is too busy to answer now; nothing was changed",
                              RETRY_AFTER_BUSY) from error
        raise Unavailable("the database cannot be reached; nothing was changed", RETRY_AFTER_UNREACHABLE) from error
