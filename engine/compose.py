"""The composition root: the runtime the server, the workers and the command line share.

It sits above the services because it wires them together: the runtime (settings,
database, packages, connectors) and the dispatcher that runs connector calls, which
itself needs the services that run them.
"""

from __future__ import annotations

from engine.core.execution import make_script_engine
from engine.core.isolated_changes import ChangeRunner, InProcessChanges, IsolatedChanges
from engine.core.worker_pool import PoolLimits, shared_pool
from engine.db.base import make_engine, make_session_factory
from engine.db.migrate import upgrade
from engine.services import notifications
from engine.services.runtime import Runtime, sandbox_limits
from engine.services.service_calls import attach_dispatcher
from engine.settings import Settings


def change_runner(settings: Settings) -> ChangeRunner:
    """Model worker processes as the settings size them, or this process when set to none."""
    if settings.model_workers == 0:
        return InProcessChanges()
    return IsolatedChanges(shared_pool(PoolLimits(
        workers=settings.model_workers, memory_bytes=settings.model_memory_mb * 1024 * 1024,
        wall_seconds=settings.model_wall_seconds)))


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Connect to the database (creating the embedded one), migrate, and assemble."""
    url = settings.effective_database_url
    if url.startswith("sqlite") and not settings.database_url:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    threads, timeout = settings.server_threads, settings.database_timeout_seconds
    engine = make_engine(url, threads=threads, timeout=timeout)
    if migrate:
        upgrade(engine)
    sqlite = url.startswith("sqlite")
    reader_engine = make_engine(url, read_only=True, threads=threads, timeout=timeout) if sqlite else None
    readers = make_session_factory(reader_engine or engine.execution_options(postgresql_readonly=True))
    runtime = Runtime(settings, engine, make_session_factory(engine), make_script_engine(sandbox_limits(settings)),
                      readers, reader_engine, changes=change_runner(settings))
    attach_dispatcher(runtime)
    notifications.watch(runtime)
    return runtime
