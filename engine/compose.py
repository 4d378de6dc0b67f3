"""The composition root: the one place a runtime is built, for the server, the Celery worker
and the command line alike.

It sits above the services because it wires them together: the database, the connector
registry, the model worker pool, and the dispatcher that runs connector calls (which
itself needs the services that run them). Everything is built before the runtime, so the
runtime never changes once made (`engine.services.runtime`). Who builds what:

- `panjereh serve` (`engine.cli`): `build_runtime`, then starts the dispatcher's tick;
- a Celery worker process (`engine.celery_worker`): `build_runtime` with its own Celery app
  to send with, after `upgrade_database` ran once in the worker's main process;
- every other command: `build_runtime`, closed when the command ends.

Business time is read where it is used (`engine.db.base.utcnow`, passed down as `now`, and
SpiffWorkflow's timers read the clock themselves); there is no clock to inject here.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import httpx

from connectors.limits import ResultLimits
from connectors.registry import GROUP as ENTRY_POINT_GROUP
from connectors.registry import Registry, load_registry
from engine.core.changes import ChangeLimits
from engine.core.execution import make_script_engine
from engine.core.isolated_changes import ChangeRunner, InProcessChanges, IsolatedChanges
from engine.core.sandbox import SandboxLimits
from engine.core.worker_pool import PoolLimits, shared_pool
from engine.db.base import make_engine, make_session_factory
from engine.db.migrate import upgrade
from engine.services import builtin_operations, notifications, service_calls
from engine.services.calendar_file import working_calendar
from engine.services.dispatch import BrokerDispatcher, InlineDispatcher
from engine.services.package_cache import PackageCache
from engine.services.runtime import PROBE_SECONDS, Dispatcher, Runtime
from engine.services.upkeep import Upkeep
from engine.settings import Settings


def sandbox_limits(settings: Settings) -> SandboxLimits:
    """The limits every script, condition and decision runs under, from `settings`."""
    return SandboxLimits(cpu_seconds=settings.script_cpu_seconds, max_data_bytes=settings.max_data_bytes,
                         max_data_depth=settings.max_data_depth)


def installed_connectors(settings: Settings) -> Registry:
    """The connector operations installed here, configured from `settings`."""
    installed = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    registry = load_registry(allow=settings.connectors_allow, deny=settings.connectors_deny,
                             config={name: settings.connector_config(name) for name in installed},
                             limits=ResultLimits(max_bytes=settings.max_data_bytes, max_depth=settings.max_data_depth))
    # The engine's own operations (issuing documents) are bound like connectors' operations.
    return builtin_operations.install(registry)


def change_runner(settings: Settings) -> ChangeRunner:
    """Model worker processes as the settings size them, or this process when set to none."""
    if settings.model_workers == 0:
        return InProcessChanges()
    return IsolatedChanges(shared_pool(PoolLimits(
        workers=settings.model_workers, memory_bytes=settings.model_memory_mb * 1024 * 1024,
        wall_seconds=settings.model_wall_seconds)))


def call_dispatcher(settings: Settings, sender: Any = None) -> Dispatcher:
    """Connector calls to Celery workers when a broker is configured (sent with `sender`, a
    Celery app, if given); otherwise run in this process."""
    if settings.broker_url:
        return BrokerDispatcher(settings.broker_url, sender)
    return InlineDispatcher(lambda runtime, call_id: service_calls.run(runtime, runtime.connectors, call_id),
                            service_calls.due_now, also=Upkeep())


def _database_url(settings: Settings) -> str:
    url = settings.effective_database_url
    if url.startswith("sqlite") and not settings.database_url:
        settings.var_dir.mkdir(parents=True, exist_ok=True)  # the embedded database's folder
    return url


def upgrade_database(settings: Settings) -> str:
    """Migrate the database to the newest schema (creating the embedded one); returns its
    address without the password, to show."""
    engine = make_engine(_database_url(settings))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return engine.url.render_as_string(hide_password=True)


def build_runtime(settings: Settings, *, migrate: bool = True, sender: Any = None,
                  dispatcher: Dispatcher | None = None,
                  connector_transport: httpx.BaseTransport | None = None) -> Runtime:
    """Connect to the database (creating the embedded one), migrate unless told not to, and
    assemble the runtime.

    Args:
        settings: what to build; read once, here.
        migrate: bring the schema up to date first (a worker's pool processes leave that to
            the main process, which ran `upgrade_database`).
        sender: the Celery app to hand calls to the broker with (a worker's own).
        dispatcher: where calls go instead of what the settings choose (tests: nowhere, or a recorder).
        connector_transport: where connector HTTP goes instead of the network (tests).
    """
    url = _database_url(settings)
    threads, timeout = settings.server_threads, settings.database_timeout_seconds
    engine = make_engine(url, threads=threads, timeout=timeout)
    if migrate:
        upgrade(engine)
    sqlite = url.startswith("sqlite")
    reader_engine = make_engine(url, read_only=True, threads=threads, timeout=timeout) if sqlite else None
    readers = make_session_factory(reader_engine or engine.execution_options(postgresql_readonly=True))
    probe_engine = make_engine(url, read_only=sqlite, threads=1, timeout=min(PROBE_SECONDS, timeout))
    limits = sandbox_limits(settings)
    calendar = working_calendar(settings)
    runtime = Runtime(
        settings=settings, engine=engine, sessions=make_session_factory(engine), readers=readers,
        reader_engine=reader_engine, probe_engine=probe_engine, script_engine=make_script_engine(limits, calendar),
        change_limits=ChangeLimits(settings.max_steps_per_change, settings.max_change_seconds, limits, calendar,
                                  settings.max_state_bytes),
        changes=change_runner(settings), connectors=installed_connectors(settings),
        dispatcher=dispatcher if dispatcher is not None else call_dispatcher(settings, sender),
        packages=PackageCache(), connector_transport=connector_transport)
    notifications.watch(runtime)
    return runtime
