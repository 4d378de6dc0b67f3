"""One composition root: a runtime is built in `engine.compose` alone, for the server, the
Celery worker and the command line, and never changes once built.

The first tests read the source (who constructs a runtime, and its parts); the others run
the server, worker and command-line entry points far enough to see where their runtime
came from.
"""

from __future__ import annotations

import ast
import dataclasses
import gc
import typing
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import engine.cli
from engine import celery_worker, compose
from engine.app import build_app
from engine.services import upkeep
from engine.services.dispatch import BrokerDispatcher, InlineDispatcher
from engine.services.runtime import Runtime
from engine.settings import Settings, get_settings
from tests.fixtures import PG_URL, Parked, Tokens, model_files

ROOT = Path(__file__).resolve().parent.parent
ROOT_MODULE = "engine.compose"
# What a runtime is made of; each is built by the composition root and nowhere else in the engine.
PARTS = {"make_engine", "make_session_factory", "load_registry", "shared_pool", "WorkerPool", "IsolatedChanges",
         "InProcessChanges", "InlineDispatcher", "BrokerDispatcher", "PackageCache", "upgrade", "make_script_engine"}
# Where a part may also be built, and why.
ALSO_BUILT = {
    "engine.db.migrations.env": {"make_engine": "Alembic's own entry point, for `alembic` run by hand"},
    "engine.core.worker_pool": {"WorkerPool": "the one shared pool per process and limits (`shared_pool`)"},
    "engine.core.snapshot": {"make_script_engine": "the engine a change runs with, in a model worker or in-process"},
    "engine.core.timer_starts": {"make_script_engine": "the engine a timer start is planned with, in a model worker"},
    "engine.headless": {"make_script_engine": "`panjereh run`: a model file with no database and no runtime"},
    "engine.summary": {"make_script_engine": "`validate --summary --run`: model files with no database"},
}


def _sources(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def test_only_the_composition_root_constructs_a_runtime() -> None:
    """Tests too: they compose one (`tests.fixtures.composed`) with the parts they replace."""
    found = []
    for module, tree in _sources("engine", "forms", "connectors", "tests", "processes"):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _called(node)
            if called == "Runtime" and module != ROOT_MODULE:
                found.append(f"{module}:{node.lineno} constructs a Runtime")
            elif called in ("replace", "__setattr__") and node.args and "runtime" in ast.unparse(node.args[0]).lower():
                found.append(f"{module}:{node.lineno} changes a runtime, or a copy of one ({ast.unparse(node.func)})")
    assert not found, "\n".join(found)


def test_the_parts_of_a_runtime_are_built_in_the_composition_root() -> None:
    found = []
    for module, tree in _sources("engine"):
        if module == ROOT_MODULE:
            continue
        allowed = ALSO_BUILT.get(module, {})
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) in PARTS and _called(node) not in allowed:
                if ast.unparse(node.func) == "command.upgrade":
                    continue  # Alembic's upgrade, inside the migration helper `upgrade` itself
                found.append(f"{module}:{node.lineno} builds {ast.unparse(node.func)}")
    assert not found, "\n".join(found)


def _mentions_any(hint: Any) -> bool:
    return hint is Any or any(_mentions_any(arg) for arg in typing.get_args(hint))


def test_a_runtime_is_typed_and_cannot_be_changed(runtime: Runtime) -> None:
    hints = typing.get_type_hints(Runtime)
    assert sorted(name for name, hint in hints.items() if _mentions_any(hint)) == []
    for field in dataclasses.fields(Runtime):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(runtime, field.name, getattr(runtime, field.name))
    with pytest.raises(dataclasses.FrozenInstanceError):
        runtime.dispatcher = Parked()  # type: ignore[misc]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, settings: Settings, runtime: Runtime) -> Iterator[Callable[..., None]]:
    """Point the process's settings at the test database (migrated by `runtime`); more variables
    by keyword, e.g. ``broker_url=...``."""

    def set_variables(**more: str) -> None:
        values = {"database_url": settings.database_url, "var_dir": str(settings.var_dir),
                  "deploy_processes_on_start": "false", "model_workers": "0", **more}
        for name, value in values.items():
            monkeypatch.setenv(f"PANJEREH_{name.upper()}", value)
        get_settings.cache_clear()

    set_variables()
    yield set_variables
    get_settings.cache_clear()


def test_the_server_composes_its_runtime_and_starts_the_embedded_tick(
        environment: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **_: served.append(app))
    assert engine.cli.main(["serve", "--port", "1"]) == 0
    [app] = served
    runtime: Runtime = app.state.runtime
    try:
        assert runtime.settings.port == 1  # the command's own settings went into the runtime
        assert isinstance(runtime.dispatcher, InlineDispatcher)
        assert runtime.dispatcher._thread is not None and runtime.dispatcher._thread.is_alive()
    finally:
        runtime.close()


def test_a_celery_worker_composes_its_runtime_sending_with_its_own_app(environment: Callable[..., None]) -> None:
    environment(broker_url="redis://127.0.0.1:1/0")  # never reached: building a runtime connects nowhere
    celery_worker.celery_app.cache_clear()
    celery_worker.worker_runtime.cache_clear()
    try:
        runtime = celery_worker.worker_runtime()
        assert isinstance(runtime.dispatcher, BrokerDispatcher)
        assert runtime.dispatcher._sender is celery_worker.celery_app()
        assert celery_worker.worker_runtime() is runtime  # one per worker process
        runtime.close()
    finally:
        celery_worker.worker_runtime.cache_clear()
        celery_worker.celery_app.cache_clear()


@pytest.mark.parametrize("command", [["audit", "verify"], ["connectors", "list"],
                                     ["token", "create", "--role", "analyst", "--name", "nasrin"]])
def test_commands_compose_their_runtime_and_close_it(environment: Callable[..., None], command: list[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Runtime] = []
    closed: list[Runtime] = []

    def build_runtime(settings: Settings, **parts: Any) -> Runtime:
        runtime = compose.build_runtime(settings, **parts)
        built.append(runtime)
        return runtime

    real_close = Runtime.close

    def close(self: Runtime) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(engine.cli, "build_runtime", build_runtime)
    monkeypatch.setattr(Runtime, "close", close)
    assert engine.cli.main(command) == 0
    assert len(built) == 1 and closed == built


def test_a_closed_runtime_and_its_application_are_freed(settings: Settings, tokens: Tokens) -> None:
    """Nothing global keeps a runtime alive once it is closed and dropped: not a session
    listener, not a route function FastAPI remembers. A test run builds hundreds of them, and
    each one kept alive held its engines, packages and application to the end of the run."""
    runtime = compose.build_runtime(settings, migrate=not PG_URL)
    with TestClient(build_app(runtime)) as client:
        assert client.get("/docs").status_code == 200
        deployed = client.post("/api/v1/deployments", files=model_files("approval.bpmn"),
                               headers=tokens.headers("analyst"))
        assert deployed.status_code == 201, deployed.text
        started = client.post("/api/v1/processes/approval/instances", json={"data": {}},
                              headers=tokens.headers("analyst"))  # a write the notification listeners see
        assert started.status_code == 201, started.text
    runtime.close()
    freed = weakref.ref(runtime)
    del runtime, client
    gc.collect()
    assert freed() is None, "a closed runtime is still referenced:\n" + "\n".join(
        f"  {type(holder).__qualname__}" for holder in gc.get_referrers(freed()))


def test_broker_mode_runs_the_upkeep_sweep_once_a_minute_from_the_beat(settings: Settings) -> None:
    """Forgotten payments and pending messages are swept by one beat entry in broker mode, as the
    embedded tick does each minute (`engine.services.upkeep`)."""
    app = celery_worker.make_celery("memory://", settings)
    [entry] = [e for e in app.conf.beat_schedule.values() if e["task"] == celery_worker.UPKEEP]
    assert entry["schedule"] == upkeep.SWEEP_SECONDS
    assert app.tasks[celery_worker.UPKEEP].run is celery_worker.sweep
    dispatcher = compose.call_dispatcher(settings.model_copy(update={"broker_url": None}))
    assert isinstance(dispatcher, InlineDispatcher) and isinstance(dispatcher._also, upkeep.Upkeep), \
        "embedded mode sweeps from its own tick"
