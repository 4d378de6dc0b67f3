"""What every unit of work shares: settings, database sessions, compiled packages, connectors."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.call_context import make_context
from connectors.limits import ResultLimits
from connectors.registry import GROUP as ENTRY_POINT_GROUP
from connectors.registry import Operation, Registry, load_registry
from connectors.sdk import ConnectorContext
from engine.core.changes import ChangeLimits
from engine.core.isolated_changes import ChangeRunner, InProcessChanges
from engine.core.sandbox import SandboxLimits
from engine.db.base import make_engine, touch_every_table
from engine.db.failures import Failure, classify, driver_message, refusal
from engine.services.errors import Conflict, LostRace, Unavailable, Unstorable
from engine.services.outbox import take_posted
from engine.settings import Settings

log = logging.getLogger("panjereh.database")
# Seconds a client is told to wait (Retry-After) before sending the same request again.
RETRY_AFTER_BUSY = 2
RETRY_AFTER_UNREACHABLE = 10
# The longest the health probe waits for the database, whatever PANJEREH_DATABASE_TIMEOUT_SECONDS
# says: a load balancer asking "can this server work?" wants an answer, not a queue.
PROBE_SECONDS = 1.0


@dataclass
class PackageCache:
    """Compiled deployments by id; parsing is cheap but not free, and specs are read-only."""

    capacity: int = 128
    _items: OrderedDict[int, Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, deployment_id: int, build: Callable[[], Any]) -> Any:
        with self._lock:
            if deployment_id in self._items:
                self._items.move_to_end(deployment_id)
                return self._items[deployment_id]
        value = build()
        with self._lock:
            self._items[deployment_id] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value


def installed_connectors(settings: Settings) -> Registry:
    """The connector operations installed here, configured from `settings`."""
    installed = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return load_registry(allow=settings.connectors_allow, deny=settings.connectors_deny,
                         config={name: settings.connector_config(name) for name in installed},
                         limits=ResultLimits(max_bytes=settings.max_data_bytes, max_depth=settings.max_data_depth))


def sandbox_limits(settings: Settings) -> SandboxLimits:
    """The limits every script, condition and decision runs under, from `settings`."""
    return SandboxLimits(cpu_seconds=settings.script_cpu_seconds, max_data_bytes=settings.max_data_bytes,
                         max_data_depth=settings.max_data_depth)


@dataclass
class Runtime:
    """Settings, database and engine pieces shared by every request and job."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    script_engine: Any
    readers: sessionmaker[Session]
    reader_engine: Engine | None = None  # SQLite's separate query_only engine
    packages: PackageCache = field(default_factory=PackageCache)
    dispatch: Callable[[Iterable[str]], None] | None = None
    connector_transport: Any = None  # tests route connector HTTP through their own transport
    # Where changes run: model worker processes, or this process (see engine/compose.py).
    changes: ChangeRunner = field(default_factory=InProcessChanges)
    _registry: Any = None
    _probe_engine: Engine | None = None
    _probe_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def change_limits(self) -> ChangeLimits:
        """What one change of an instance may spend: steps, seconds, and the sandbox's limits."""
        return ChangeLimits(self.settings.max_steps_per_change, self.settings.max_change_seconds,
                            sandbox_limits(self.settings), self.settings.max_state_bytes)

    @property
    def connectors(self) -> Registry:
        """The connector operations installed here (discovered once, on first use)."""
        if self._registry is None:
            self._registry = installed_connectors(self.settings)
        registry: Registry = self._registry
        return registry

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
        if written and self.dispatch is not None:
            self.dispatch(written)

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
        with _database_failures(), self._prober().execution_options(postgresql_readonly=True).connect() as connection:
            touch_every_table(connection)

    def _prober(self) -> Engine:
        with self._probe_lock:
            if self._probe_engine is None:
                url = self.settings.effective_database_url
                self._probe_engine = make_engine(url, read_only=url.startswith("sqlite"), threads=1,
                                                 timeout=min(PROBE_SECONDS, self.settings.database_timeout_seconds))
            return self._probe_engine

    def close(self) -> None:
        self.engine.dispose()
        if self.reader_engine is not None:
            self.reader_engine.dispose()
        if self._probe_engine is not None:
            self._probe_engine.dispose()


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
