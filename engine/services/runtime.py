"""The composition root: everything a unit of work needs, built once from settings."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.context import make_context
from connectors.limits import ResultLimits
from connectors.registry import GROUP as ENTRY_POINT_GROUP
from connectors.registry import Operation, Registry, load_registry
from connectors.sdk import ConnectorContext
from engine.core.runtime import make_script_engine
from engine.core.sandbox import SandboxLimits
from engine.db.base import make_engine, make_session_factory
from engine.db.migrate import upgrade
from engine.settings import Settings


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


# How deeply a connector's answer may nest in a case's data. Settings.max_data_depth (from
# the bounded-inputs part of issue 10) replaces this constant once it lands.
MAX_DATA_DEPTH = 32


def installed_connectors(settings: Settings) -> Registry:
    """The connector operations installed here, configured from `settings`."""
    installed = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return load_registry(allow=settings.connectors_allow, deny=settings.connectors_deny,
                         config={name: settings.connector_config(name) for name in installed},
                         limits=ResultLimits(max_bytes=settings.max_data_bytes, max_depth=MAX_DATA_DEPTH))


@dataclass
class Runtime:
    """Settings, database and engine pieces shared by every request and job."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    script_engine: Any
    readers: sessionmaker[Session] | None = None
    packages: PackageCache = field(default_factory=PackageCache)
    dispatch: Callable[[set[str]], None] | None = None
    connector_transport: Any = None  # tests route connector HTTP through their own transport
    _registry: Any = None

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

        Connector calls the transaction wrote are handed to the dispatcher only after the
        commit, so a worker never looks for a row that is not there yet.
        """
        with self.sessions() as session:
            with session.begin():
                yield session
            written = session.info.pop("new_calls", None)
        if written and self.dispatch is not None:
            self.dispatch(written)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only (on SQLite it never takes the write lock)."""
        with (self.readers or self.sessions)() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
        if self.readers is not None and self.readers.kw.get("bind") is not None:
            self.readers.kw["bind"].dispose()


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Connect to the database (creating the embedded one), migrate, and assemble."""
    url = settings.effective_database_url
    if url.startswith("sqlite") and not settings.database_url:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    limits = SandboxLimits(cpu_seconds=settings.script_cpu_seconds, max_data_bytes=settings.max_data_bytes)
    readers = make_session_factory(make_engine(url, read_only=True)) if url.startswith("sqlite") else None
    runtime = Runtime(settings, engine, make_session_factory(engine), make_script_engine(limits), readers)
    from engine.services.jobs import attach_dispatcher

    attach_dispatcher(runtime)
    return runtime
