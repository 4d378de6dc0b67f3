"""Calling one of the building permit's agency connectors against the simulated agencies, over real HTTP."""

from __future__ import annotations

import logging
from typing import Any

from connectors.call_context import make_context
from connectors.registry import load_registry
from connectors.simulators.settings import simulated_config


def call(agencies: str, operation_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The operation's answer, through the registry as the engine loads it."""
    connector = operation_id.split("/")[0]
    registry = load_registry(allow=[connector], config=simulated_config(f"{agencies}/sandbox"))
    assert registry.problems == []
    operation = registry.get(operation_id)
    assert operation is not None
    context = make_context(timeout=5, case_id="case-1", purpose="test", end_user="0013542419", attempt=1,
                           idempotency_key=f"test-{operation_id}-{sorted(params.items())}", connector_id=connector,
                           secrets={}, logger=logging.getLogger("test"))
    try:
        return operation.call(context, params)
    finally:
        context.http.close()
