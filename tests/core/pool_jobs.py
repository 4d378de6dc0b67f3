"""Module-level jobs and builders for the worker pool tests (sent to workers by name)."""

from __future__ import annotations

import os
from typing import Any


def build(source: Any) -> dict[str, Any]:
    """A 'package': the source and the process that built it."""
    return {"source": source, "built_by": os.getpid()}


def echo(package: dict[str, Any], payload: Any) -> tuple[Any, Any, int]:
    return package["source"], payload, os.getpid()


def fail(package: dict[str, Any], payload: Any) -> None:
    raise ValueError(f"refused {payload}")


def one_long_c_call(package: dict[str, Any], payload: Any) -> int:
    # A single C-level call no Python-level check can interrupt.
    return sum(range(10**13))


def grab_memory(package: dict[str, Any], payload: Any) -> int:
    block = bytearray(payload)
    return len(block)


def crash(package: dict[str, Any], payload: Any) -> None:
    os._exit(3)


def not_json(package: dict[str, Any], payload: Any) -> set[int]:
    return {1, 2}


def form_conditions(source: Any) -> Any:
    """A 'package' for form conditions: the form's `hidden_when`, as the benchmark sends it."""
    return source


def hidden_fields_job(hidden_when: Any, data: Any) -> list[str]:
    from forms.conditions import hidden_fields

    return sorted(hidden_fields(data, hidden_when))
