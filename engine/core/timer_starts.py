"""When a timer start event fires: its expression, evaluated where model code runs.

A timer start event's date, duration or cycle is an expression the analyst wrote (Python,
or FEEL and JUEL translated into it), evaluated once, when the engine first sees the
process definition. It is model code like any script, so it runs where changes run: in a
model worker (engine/core/isolated_changes.py), or in this process when workers are off.
The worker finds the event in the package it built, so only the package's key, the
process, the element and the time cross the pipe, and only a `Schedule` comes back.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine.core.catch_events import Schedule, schedule, start_triggers
from engine.core.execution import make_script_engine
from engine.core.package import CompiledPackage
from engine.core.sandbox import SandboxLimits
from engine.core.working_calendar import WorkingCalendar


@lru_cache(maxsize=8)
def _script_engine(limits: SandboxLimits, calendar: WorkingCalendar) -> PythonScriptEngine:
    # Stateless between calls (each evaluation opens its own sandbox run).
    return make_script_engine(limits, calendar)


def plan_timer_start(package: CompiledPackage, process_key: str, element_id: str, now: datetime,
                     limits: SandboxLimits, calendar: WorkingCalendar | None = None) -> Schedule:
    """When timer start event `element_id` of process `process_key` first fires, counted
    from `now`, and how it repeats; its expression runs in the sandbox under `limits`, with
    `working_days` counting on `calendar` (the configured official calendar, as in changes).

    Raises:
        ValueError: `element_id` is no timer start event of the process, or its expression
            fails or gives no ISO 8601 date, duration or cycle (the message says which).
    """
    trigger = next((t for t in start_triggers(package, process_key)
                    if t.kind == "timer" and t.element_id == element_id), None)
    if trigger is None:
        raise ValueError(f"process '{process_key}' has no timer start event '{element_id}'")
    environment = _script_engine(limits, calendar or WorkingCalendar()).environment
    return schedule(trigger, lambda text: environment.evaluate(text, {}), now)
