"""Control half of the script sandbox: limits, errors, the CPU tracer and exception rules.

A line tracer is the only way to interrupt pure-Python loops in any thread (signals reach
only the main thread, and FastAPI runs sync handlers in a thread pool). CPython uninstalls a
tracer that raises, so the tracer alone cannot stop a script that catches the timeout and
carries on; hence the rules here: only Exception subclasses can be caught or raised, every
``except`` block starts with `enter_handler`, and a run re-raises its first violation at the end.

Every few milliseconds of a run the tracer also compares the process's resident memory with
what it was at the run's first check: memory a loop allocates is otherwise bounded only by
the CPU time. Guards that drive a C loop over script values call `checkpoint`, so a long C
iteration is checked as well.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from types import CodeType, FrameType
from typing import Any, NoReturn
from uuid import UUID

# SpiffWorkflow's PythonScriptEngine finds the failing script line by this file name.
SCRIPT_FILENAME = "<string>"
# perf_counter is ~10x cheaper than thread_time (a syscall), so the tracer reads the CPU
# clock only when this much wall time has passed; CPU time never runs ahead of wall time.
_CLOCK_CHECK_SECONDS = 0.005
# Host-side values the state serializer stores as text.
_TEXT_SCALARS = (date, time_of_day, timedelta, UUID, Decimal)


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one `evaluate` or `execute` call.

    Attributes:
        cpu_seconds: CPU time of the calling thread a call may use.
        max_data_bytes: JSON size of the task data after a script.
        max_sequence_length: longest str/list/tuple/range an operation may create, and the
            largest width or precision in a format spec.
        max_int_bits: largest integer ``*``, ``**`` and ``<<`` may create.
        max_call_depth: deepest nesting of script functions, lambdas and comprehensions.
        max_data_depth: deepest nesting of containers in task data, in `json_dumps`/`json_loads`,
            and in values compared, hashed or converted to text.
        max_source_length: longest script or expression text accepted.
        max_memory_bytes: how much the process's resident memory may grow during one call
            (checked every few milliseconds; where /proc is missing, peak memory is used).
        max_compared_chars: characters of text one comparison, search or sort may go
            through (two equal-length strings are compared character by character in C, so
            a list holding one long string a million times costs a million times its length).
    """

    cpu_seconds: float = 1.0
    max_data_bytes: int = 1_000_000
    max_sequence_length: int = 1_000_000
    max_int_bits: int = 10_000
    max_call_depth: int = 100
    max_data_depth: int = 32
    max_source_length: int = 100_000
    max_memory_bytes: int = 256 * 1024 * 1024
    max_compared_chars: int = 100_000_000


class SandboxViolation(Exception):
    """A script or expression tried something the sandbox refuses; the message says what."""


class SandboxTimeout(SandboxViolation):
    """A script or expression used up its CPU time."""


_local = threading.local()


class _ResidentMemory:
    """The process's resident set size, read from /proc/self/statm through a descriptor kept open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def bytes(self) -> int:
        if self._pid != os.getpid():
            # After a fork the inherited descriptor still describes the parent.
            with self._lock:
                if self._pid != os.getpid():
                    try:
                        self._fd = os.open("/proc/self/statm", os.O_RDONLY)
                    except OSError:
                        self._fd = None
                    self._pid = os.getpid()
        if self._fd is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return peak if sys.platform == "darwin" else peak * 1024
        return int(os.pread(self._fd, 64, 0).split()[1]) * self._page


_memory = _ResidentMemory()


def refuse(message: str) -> NoReturn:
    """Raise a violation and remember it on the current run, so swallowing it cannot help."""
    error = SandboxViolation(message)
    run: Run | None = getattr(_local, "run", None)
    if run is not None and run.violation is None:
        run.violation = error
    raise error


class Run:
    """One sandboxed call on the current thread: CPU deadline, call depth, first violation.

    All state is per call and the tracer is per thread, so runs in different threads never
    see each other, and a run nested inside another (a helper evaluating an expression)
    restores the outer tracer when it ends.
    """

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.violation: SandboxViolation | None = None
        self._depth = 0
        self._deadline = 0.0
        self._next_clock_check = 0.0
        self._memory_base: int | None = None

    def call(self, runner: Callable[[CodeType, dict[str, Any]], Any], code: CodeType,
             namespace: dict[str, Any]) -> Any:
        """Run `runner(code, namespace)` (eval or exec) under the tracer and guards."""
        outer_run, outer_trace = getattr(_local, "run", None), sys.gettrace()
        self._deadline = time.thread_time() + self.limits.cpu_seconds
        # Most calls (a condition, a short script) end before the first check and never
        # read the memory; the CPU deadline is far enough away to wait for it.
        self._next_clock_check = time.perf_counter() + _CLOCK_CHECK_SECONDS
        _local.run = self
        sys.settrace(self.on_call)
        try:
            result = runner(code, namespace)
        except Exception:
            if self.violation is None:
                raise
            result = None
        finally:
            sys.settrace(outer_trace)
            _local.run = outer_run
        if self.violation is not None:
            raise self.violation
        return result

    def on_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        """Global trace function: count script frames, trace only their lines."""
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        self._depth += 1
        if self._depth > self.limits.max_call_depth:
            refuse(f"script exceeded the call depth limit of {self.limits.max_call_depth} "
                   "(runaway recursion?)")
        if time.perf_counter() >= self._next_clock_check:
            self.check()
        return self._on_event

    def _on_event(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            if time.perf_counter() >= self._next_clock_check:
                self.check()
        elif event == "return":
            self._depth -= 1
        return self._on_event

    def check(self) -> None:
        """Stop the run when it is over its CPU time or memory limit."""
        self._next_clock_check = time.perf_counter() + _CLOCK_CHECK_SECONDS
        if time.thread_time() > self._deadline:
            error = SandboxTimeout(f"script exceeded its CPU time limit of {self.limits.cpu_seconds} s")
            self.violation = self.violation or error
            raise error
        resident = _memory.bytes()
        if self._memory_base is None:
            self._memory_base = resident
        elif resident - self._memory_base > self.limits.max_memory_bytes:
            refuse(f"script used more than {self.limits.max_memory_bytes // 2**20:,} MB of memory (the limit of "
                   "one script or expression)")


def checkpoint() -> None:
    """Check the current run's limits when they are due: guards call this inside C-driven loops."""
    run: Run | None = getattr(_local, "run", None)
    if run is not None and time.perf_counter() >= run._next_clock_check:
        run.check()


def enter_handler() -> None:
    """First statement of every ``except`` block: sandbox errors are never caught."""
    run: Run | None = getattr(_local, "run", None)
    if run is None:
        refuse("script code ran outside the sandbox")
    if run.violation is not None:
        raise run.violation
    caught = sys.exc_info()[1]
    if isinstance(caught, (RecursionError, MemoryError)):
        refuse(f"scripts may not catch {type(caught).__name__}")
    if sys.gettrace() != run.on_call:
        refuse("the script's CPU-time tracer was switched off")


class Unavailable:
    """Stands in for every builtin that is not offered, so using one names the refusal."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self.refuse()

    def refuse(self) -> NoReturn:
        """Raise the violation for using this name."""
        refuse(f"'{self.name}' is not available in scripts")


def catchable(kind: Any) -> Any:
    """Guard ``except kind``: only Exception subclasses, never SystemExit and friends."""
    for each in kind if isinstance(kind, tuple) else (kind,):
        if isinstance(each, Unavailable):
            each.refuse()
        if not (isinstance(each, type) and issubclass(each, Exception)):
            refuse(f"only exception classes can be caught, not {type(each).__name__}")
    return kind


def raisable(error: Any) -> Any:
    """Guard ``raise error``: only exceptions (instances or classes)."""
    if isinstance(error, Unavailable):
        error.refuse()
    if isinstance(error, Exception) or (isinstance(error, type) and issubclass(error, Exception)):
        return error
    refuse(f"only exceptions can be raised, not {type(error).__name__}")


def json_size(value: Any, budget: int, max_depth: int) -> int:
    """About ``len(json.dumps(value))``, counting until the total passes `budget`.

    Walks iteratively and counts a shared sub-object every time it appears, so a small
    graph that would serialize to gigabytes (a list holding one big list a thousand times)
    is measured in bounded time instead of being serialized. Values the state serializer
    cannot store (sets, exceptions, ranges...) are refused here, with a clear message,
    rather than failing later when the instance is saved.
    """
    total = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending and total <= budget:
        item, depth = pending.pop()
        if depth > max_depth:
            refuse(f"data is nested more than {max_depth} levels deep")
        if item is None or isinstance(item, (str, int, float)):
            total += len(json.dumps(item))
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)  # braces, ": " and ", "
            for key, child in item.items():
                if not (key is None or isinstance(key, (str, int, float))):
                    refuse(f"data keys must be strings or numbers, not {type(key).__name__}")
                total += len(json.dumps(key if isinstance(key, str) else str(key)))
                pending.append((child, depth + 1))
        elif isinstance(item, (list, tuple)):
            total += 2 + 2 * len(item)
            pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, _TEXT_SCALARS):
            total += len(str(item)) + 2
        else:
            refuse(f"data cannot hold {type(item).__name__} values; use lists, dicts, text and numbers")
    return total
