"""Payment tests run against the product on a real port (`tests.payments.server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.payments.server import Portal, own_address_settings, running


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # Little latency at the simulated agencies: these tests make many calls.
    monkeypatch.setenv("PANJEREH_SANDBOX_LATENCY_MS", "5")
    monkeypatch.setenv("PANJEREH_SANDBOX_JITTER_MS", "5")
    return own_address_settings(tmp_path, pg_ready)


@pytest.fixture
def portal(runtime: Runtime) -> Iterator[Portal]:
    with running(runtime) as served:
        yield served
