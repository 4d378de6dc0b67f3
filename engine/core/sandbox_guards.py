"""Run-time half of the script sandbox: limits, errors, the CPU tracer and the guards.

`sandbox_ast` rewrites attribute reads, the operators that can grow a value (``+ * ** << %``),
``except`` clauses and ``raise`` into calls to the functions here, and scripts see only the
builtins assembled in `Guards.namespace`. So everything a script can reach at run time is
listed in this file; the per-type attribute tables are the whole remaining surface.
"""

from __future__ import annotations

import builtins
import functools
import json
import math
import operator
import re
import string
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from types import CodeType, FrameType
from typing import Any, NoReturn

# SpiffWorkflow's PythonScriptEngine finds the failing script line by this file name.
SCRIPT_FILENAME = "<string>"
# Names the rewritten code calls. The static check refuses every name starting with "_",
# so scripts cannot refer to (or shadow) them; task data cannot either (see the environment).
GETATTR, ADD, MUL, POW = "__sbx_getattr", "__sbx_add", "__sbx_mul", "__sbx_pow"
LSHIFT, MOD = "__sbx_lshift", "__sbx_mod"
INPLACE, INPLACE_ITEM = "__sbx_inplace", "__sbx_inplace_item"
CATCHABLE, RAISABLE, HANDLER = "__sbx_catchable", "__sbx_raisable", "__sbx_handler"
# perf_counter is ~10x cheaper than thread_time (a syscall), so the tracer reads the CPU
# clock only when this much wall time has passed; CPU time never runs ahead of wall time.
_CLOCK_CHECK_SECONDS = 0.005


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
        max_data_depth: deepest nesting of containers in task data and in `json_dumps`.
        max_source_length: longest script or expression text accepted.
    """

    cpu_seconds: float = 1.0
    max_data_bytes: int = 1_000_000
    max_sequence_length: int = 1_000_000
    max_int_bits: int = 10_000
    max_call_depth: int = 100
    max_data_depth: int = 64
    max_source_length: int = 100_000


class SandboxViolation(Exception):
    """A script or expression tried something the sandbox refuses; the message says what."""


class SandboxTimeout(SandboxViolation):
    """A script or expression used up its CPU time."""


_local = threading.local()


def refuse(message: str) -> NoReturn:
    """Raise a violation and remember it on the current run, so swallowing it cannot help."""
    error = SandboxViolation(message)
    run: Run | None = getattr(_local, "run", None)
    if run is not None and run.violation is None:
        run.violation = error
    raise error


class Run:
    """One sandboxed call on the current thread: CPU deadline, call depth, first violation.

    A line tracer is the only way to interrupt pure-Python loops in any thread (signals only
    reach the main thread). CPython uninstalls a tracer that raises, which is why every
    ``except`` block starts with `enter_handler`: the script cannot carry on untraced.
    """

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.violation: SandboxViolation | None = None
        self._depth = 0
        self._deadline = 0.0
        self._next_clock_check = 0.0

    def call(self, runner: Callable[[CodeType, dict[str, Any]], Any], code: CodeType,
             namespace: dict[str, Any]) -> Any:
        """Run `runner(code, namespace)` (eval or exec) under the tracer and guards."""
        outer_run, outer_trace = getattr(_local, "run", None), sys.gettrace()
        self._deadline = time.thread_time() + self.limits.cpu_seconds
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
        self._check_clock()
        return self._on_event

    def _on_event(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self._check_clock()
        elif event == "return":
            self._depth -= 1
        return self._on_event

    def _check_clock(self) -> None:
        now = time.perf_counter()
        if now < self._next_clock_check:
            return
        self._next_clock_check = now + _CLOCK_CHECK_SECONDS
        if time.thread_time() > self._deadline:
            error = SandboxTimeout(f"script exceeded its CPU time limit of {self.limits.cpu_seconds} s")
            self.violation = self.violation or error
            raise error


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
    is measured in bounded time instead of being serialized.
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
                total += len(json.dumps(key if isinstance(key, str) else str(key)))
                pending.append((child, depth + 1))
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            pending.extend((child, depth + 1) for child in item)
        else:
            total += len(str(item)) + 2
    return total


def json_loads(text: str) -> Any:
    """Parse JSON text into plain data (no hooks or custom classes)."""
    return json.loads(text)


_STR = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "find", "format", "index", "isalnum",
    "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle",
    "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix",
    "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
    "startswith", "strip", "swapcase", "title", "upper", "zfill",
})
_DATE = frozenset({"year", "month", "day", "weekday", "isoweekday", "isocalendar", "isoformat",
                   "strftime", "replace", "toordinal"})
_CLOCK = frozenset({"hour", "minute", "second", "microsecond", "tzinfo", "isoformat", "strftime",
                    "replace", "utcoffset"})
# Attributes readable on instances, by exact type: a subclass (say an lxml "smart string"
# carrying its XML tree) gets nothing. Modules, functions, frames, code, generators and
# types are absent on purpose. Mutating methods are separate: expressions may not use them.
_READ: dict[type, frozenset[str]] = {
    str: _STR,
    int: frozenset({"bit_length"}),
    bool: frozenset({"bit_length"}),
    float: frozenset({"is_integer"}),
    list: frozenset({"copy", "count", "index"}),
    tuple: frozenset({"count", "index"}),
    dict: frozenset({"copy", "get", "items", "keys", "values"}),
    set: frozenset({"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
                    "symmetric_difference", "union"}),
    date: _DATE,
    datetime: _DATE | _CLOCK | {"date", "time", "timestamp", "astimezone"},
    clock_time: _CLOCK,
    timedelta: frozenset({"days", "seconds", "microseconds", "total_seconds"}),
}
_WRITE: dict[type, frozenset[str]] = {
    list: frozenset({"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"}),
    dict: frozenset({"clear", "pop", "popitem", "setdefault", "update"}),
    set: frozenset({"add", "clear", "difference_update", "discard", "intersection_update", "pop",
                    "remove", "symmetric_difference_update", "update"}),
}
_READ_WRITE = {kind: names | _WRITE.get(kind, frozenset()) for kind, names in _READ.items()}
# Attributes readable on the offered classes themselves (constructors and constants).
_CLASS: dict[type, frozenset[str]] = {
    datetime: frozenset({"now", "today", "fromisoformat", "strptime", "combine", "fromtimestamp",
                         "min", "max"}),
    date: frozenset({"today", "fromisoformat", "fromordinal", "min", "max"}),
    timedelta: frozenset({"min", "max"}),
    timezone: frozenset({"utc"}),
    str: frozenset({"lower", "upper", "strip", "title", "capitalize", "casefold"}),
}
_EXCEPTIONS = (Exception, ArithmeticError, LookupError, ValueError, TypeError, KeyError, IndexError,
               ZeroDivisionError)
_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.iadd, "*": operator.imul, "**": operator.ipow, "<<": operator.ilshift, "%": operator.imod,
}
_SEQUENCES = (str, bytes, list, tuple)
_PRINTF_FIELD = re.compile(r"%%|%(?:\([^)]*\))?[#0 +-]*(\*|\d*)(?:\.(\*|\d*))?")
_FORMATTER = string.Formatter()


def format_spec_problem(spec: str, limit: int) -> str | None:
    """Why a format spec (the part after ``:``) is refused, or None."""
    if "{" in spec:
        return "nested replacement fields in format specs are not allowed"
    for digits in re.findall(r"\d+", spec):
        if len(digits) > len(str(limit)) or int(digits) > limit:
            return f"format width or precision {digits} is over the limit of {limit:,}"
    return None


class Guards:
    """The functions rewritten script code calls, bound to one set of limits."""

    def __init__(self, limits: SandboxLimits, helpers: Mapping[str, Any]) -> None:
        self.limits = limits
        offered: dict[str, Any] = {
            "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate,
            "filter": filter, "float": float, "int": int, "isinstance": isinstance, "len": len,
            "list": list, "map": map, "max": max, "min": min, "reversed": reversed, "set": set,
            "sorted": sorted, "str": str, "tuple": tuple, "zip": zip,
            "range": self.range, "round": self.round, "sum": self.sum,
            "datetime": datetime, "date": date, "timedelta": timedelta, "timezone": timezone,
            "json_dumps": self.json_dumps, "json_loads": json_loads,
            "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt,
        }
        offered.update((error.__name__, error) for error in _EXCEPTIONS)
        denied = {name: Unavailable(name) for name in vars(builtins) if not name.startswith("_")}
        self._builtins = {**denied, **offered, **helpers}

    def namespace(self, *, expression: bool) -> dict[str, Any]:
        """Internal names plus ``__builtins__`` for one mode; expressions get no mutators."""
        return {
            GETATTR: self._getattr_guard(_READ if expression else _READ_WRITE, expression),
            ADD: self.add, MUL: self.mul, POW: self.pow, LSHIFT: self.lshift, MOD: self.mod,
            INPLACE: self.inplace, INPLACE_ITEM: self.inplace_item,
            CATCHABLE: catchable, RAISABLE: raisable, HANDLER: enter_handler,
            "__builtins__": self._builtins,
        }

    def _getattr_guard(self, tables: dict[type, frozenset[str]], expression: bool
                       ) -> Callable[[Any, str], Any]:
        wrappers: dict[str, Callable[[str], Callable[..., str]]] = {
            "join": self._join, "replace": self._replace, "format": self._format,
            **{name: functools.partial(self._pad, method=name) for name in ("center", "ljust", "rjust",
                                                                            "zfill")},
        }

        def guarded_getattr(obj: Any, name: str) -> Any:
            if isinstance(obj, Unavailable):
                obj.refuse()
            if isinstance(obj, type):
                allowed = _CLASS.get(obj, frozenset())
            elif isinstance(obj, BaseException):
                allowed = frozenset({"args"})
            else:
                allowed = tables.get(type(obj), frozenset())
            if name not in allowed:
                if expression and name in _WRITE.get(type(obj), ()):
                    refuse(f"'{name}' changes data and is not allowed in an expression")
                owner = (f"class '{obj.__name__}'" if isinstance(obj, type)
                         else f"'{type(obj).__name__}' objects")
                refuse(f"attribute '{name}' of {owner} is not allowed")
            if type(obj) is str and name in wrappers:
                return wrappers[name](obj)
            if type(obj) is list and name == "extend":
                return self._extend(obj)
            return getattr(obj, name)

        return guarded_getattr

    def _check_length(self, length: int, operation: str) -> None:
        if length > self.limits.max_sequence_length:
            refuse(f"{operation} would create {length:,} items, over the limit of "
                   f"{self.limits.max_sequence_length:,}")

    def _check_bits(self, bits: int, operation: str) -> None:
        if bits > self.limits.max_int_bits:
            refuse(f"'{operation}' would create an integer of about {bits:,} bits, over the limit of "
                   f"{self.limits.max_int_bits:,}")

    def _check(self, op: str, a: Any, b: Any) -> None:
        if op == "+":
            if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
                self._check_length(len(a) + len(b), "'+'")
        elif op == "*":
            if isinstance(a, int) and isinstance(b, int):
                self._check_bits(a.bit_length() + b.bit_length(), op)
            elif isinstance(a, _SEQUENCES) and isinstance(b, int):
                self._check_length(len(a) * b, "'*'")
            elif isinstance(b, _SEQUENCES) and isinstance(a, int):
                self._check_length(len(b) * a, "'*'")
        elif op == "**":
            if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
                self._check_bits(a.bit_length() * b, op)
        elif op == "<<":
            if isinstance(a, int) and isinstance(b, int) and a and b > 0:
                self._check_bits(a.bit_length() + b, op)
        elif op == "%" and isinstance(a, (str, bytes)):
            template = a.decode("latin-1") if isinstance(a, bytes) else a
            for match in _PRINTF_FIELD.finditer(template):
                for digits in match.groups():
                    if digits == "*":
                        refuse("'*' widths in %-formatting are not allowed")
                    if digits:
                        self._check_length(int(digits[:20]), "a %-format width")

    def add(self, a: Any, b: Any) -> Any:
        """Guarded ``a + b``."""
        self._check("+", a, b)
        return a + b

    def mul(self, a: Any, b: Any) -> Any:
        """Guarded ``a * b``."""
        self._check("*", a, b)
        return a * b

    def pow(self, a: Any, b: Any) -> Any:
        """Guarded ``a ** b``."""
        self._check("**", a, b)
        return a**b

    def lshift(self, a: Any, b: Any) -> Any:
        """Guarded ``a << b``."""
        self._check("<<", a, b)
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        """Guarded ``a % b`` (also %-formatting)."""
        self._check("%", a, b)
        return a % b

    def inplace(self, op: str, a: Any, b: Any) -> Any:
        """Guarded ``a op= b``, keeping in-place semantics for lists."""
        self._check(op, a, b)
        return _INPLACE_OPS[op](a, b)

    def inplace_item(self, op: str, target: Any, key: Any, value: Any) -> None:
        """Guarded ``target[key] op= value``."""
        target[key] = self.inplace(op, target[key], value)

    def range(self, *args: int) -> range:
        """`range` that refuses more items than the sequence limit."""
        result = builtins.range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = sys.maxsize
        self._check_length(length, "range()")
        return result

    def round(self, number: Any, ndigits: int | None = None) -> Any:
        """`round`; round(big_int, -huge) would compute 10**huge."""
        if isinstance(ndigits, int) and abs(ndigits) * 4 > self.limits.max_int_bits:
            refuse(f"round() to {ndigits} digits is not allowed")
        return builtins.round(number, ndigits)

    def sum(self, items: Iterable[Any], start: Any = 0) -> Any:
        """`sum` of numbers; summing lists or strings is quadratic C work."""
        if not isinstance(start, (int, float, timedelta)):
            refuse("sum() only adds numbers and timedeltas")
        return builtins.sum(items, start)

    def json_dumps(self, value: Any, sort_keys: bool = False) -> str:
        """JSON text of plain data, refused when it would be over the sequence limit."""
        limit = self.limits.max_sequence_length
        if json_size(value, limit, self.limits.max_data_depth) > limit:
            refuse(f"json_dumps() would produce more than {limit:,} characters")
        return json.dumps(value, sort_keys=bool(sort_keys))

    def _join(self, separator: str) -> Callable[[Iterable[Any]], str]:
        def join(parts: Iterable[Any]) -> str:
            items = list(parts)
            length = sum(len(item) for item in items if isinstance(item, str))
            self._check_length(length + len(separator) * max(len(items) - 1, 0), "str.join()")
            return separator.join(items)
        return join

    def _replace(self, text: str) -> Callable[..., str]:
        def replace(old: str, new: str, count: int = -1) -> str:
            if isinstance(old, str) and isinstance(new, str):
                hits = text.count(old) if old else len(text) + 1
                if isinstance(count, int) and count >= 0:
                    hits = min(hits, count)
                self._check_length(len(text) + hits * (len(new) - len(old)), "str.replace()")
            return text.replace(old, new, count)
        return replace

    def _pad(self, text: str, method: str) -> Callable[..., str]:
        bound = getattr(text, method)

        def pad(width: int, *fill: str) -> str:
            if isinstance(width, int):
                self._check_length(width, f"str.{method}()")
            padded: str = bound(width, *fill)
            return padded
        return pad

    def _format(self, template: str) -> Callable[..., str]:
        def format_text(*args: Any, **kwargs: Any) -> str:
            for _, field, spec, _ in _FORMATTER.parse(template):
                # "{0.__class__}" and "{0[key]}" look attributes/items up by string at run
                # time, past the static check; positional and named fields are enough.
                if field and ("." in field or "[" in field):
                    refuse(f"attribute and index lookups in format fields are not allowed: '{{{field}}}'")
                problem = format_spec_problem(spec or "", self.limits.max_sequence_length)
                if problem:
                    refuse(problem)
            return template.format(*args, **kwargs)
        return format_text

    def _extend(self, target: list[Any]) -> Callable[[Iterable[Any]], None]:
        def extend(items: Iterable[Any]) -> None:
            if isinstance(items, Sized):
                self._check_length(len(target) + len(items), "list.extend()")
            target.extend(items)
        return extend
