"""How big and how deep an agency's answer may be before it enters a case.

An answer becomes part of an instance's data, which is stored, restored and handed to
every later script; data nested deeper or larger than the engine's limits could be saved
but never worked with again. Such an answer is refused here, as a connector error an
operator sees, before it reaches the instance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from connectors.sdk import ConnectorError

# The engine's defaults; `load_registry` receives the configured values.
DEFAULT_MAX_BYTES = 1_000_000
DEFAULT_MAX_DEPTH = 32


@dataclass(frozen=True)
class ResultLimits:
    """The largest answer, as JSON bytes, and the deepest nesting of lists and objects in it."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH


def _children(value: Any) -> list[Any]:
    if isinstance(value, BaseModel):
        # Iterating a model yields (field, value) pairs without serializing anything.
        return [child for _, child in value]
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return []


def depth_of(value: Any, stop_after: int) -> int:
    """How deep the deepest value in `value` sits (`value` itself at 0, its items at 1, ...),
    counted up to `stop_after` + 1.

    Walks without recursion, so an answer nested a million levels deep is measured, not
    crashed on.
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if deepest > stop_after:
            break
        pending.extend((child, depth + 1) for child in _children(item))
    return deepest


def check_depth(operation_id: str, value: Any, limits: ResultLimits) -> None:
    """Refuse an answer (a model or plain data) nested deeper than `limits` allow.

    Raises:
        ConnectorError: ``result-too-deep``, not retryable.
    """
    # The answer goes into a variable of the case, one level below the case's data.
    allowed = limits.max_depth - 1
    if depth_of(value, allowed) > allowed:
        raise ConnectorError("result-too-deep", f"{operation_id} answered data nested more than {allowed} levels "
                             f"deep; in the case's data that would pass the limit of {limits.max_depth}")


def check_result(operation_id: str, data: dict[str, Any], limits: ResultLimits) -> None:
    """Refuse a result (JSON data) over `limits`, measured as the engine measures a case's data.

    Raises:
        ConnectorError: ``result-too-deep`` or ``result-too-large``, not retryable.
    """
    check_depth(operation_id, data, limits)
    size = len(json.dumps(data).encode())
    if size > limits.max_bytes:
        raise ConnectorError("result-too-large", f"{operation_id} answered {size:,} bytes, over the limit of "
                             f"{limits.max_bytes:,} bytes of a case's data (PANJEREH_MAX_DATA_BYTES)")
