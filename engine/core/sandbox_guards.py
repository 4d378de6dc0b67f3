"""Run-time guards of the script sandbox: what a script can reach, and how big it may grow.

`sandbox_ast` rewrites attribute reads and the operators that can grow a value
(``+ * ** << %``) into calls to `Guards`, and scripts see only the builtins assembled in
`Guards.namespace`. So everything a script can reach at run time is listed in this file;
the per-type attribute tables are the whole remaining surface.
"""

from __future__ import annotations

import builtins
import functools
import json
import logging
import math
import operator
import re
import string
import sys
from collections.abc import Callable, Iterable, Mapping, Sized
from datetime import date, datetime, timedelta, timezone
from datetime import time as time_of_day
from typing import Any

from engine.core.sandbox_run import (
    SandboxLimits,
    Unavailable,
    catchable,
    enter_handler,
    json_size,
    raisable,
    refuse,
)

# Names the rewritten code calls. The static check refuses every name starting with "_",
# so scripts cannot refer to (or shadow) them, and the environment puts them over task data.
GETATTR, ADD, MUL, POW = "__sbx_getattr", "__sbx_add", "__sbx_mul", "__sbx_pow"
LSHIFT, MOD = "__sbx_lshift", "__sbx_mod"
INPLACE_ITEM = "__sbx_inplace_item"
CATCHABLE, RAISABLE, HANDLER = "__sbx_catchable", "__sbx_raisable", "__sbx_handler"
LOOP_MARK = "__sbx_loop"


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
    time_of_day: _CLOCK,
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
# Typed handles on the in-place operators (typeshed leaves them untyped).
_IN_PLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.iadd, "*": operator.imul, "**": operator.ipow, "<<": operator.ilshift, "%": operator.imod,
}
_SEQUENCES = (str, bytes, list, tuple)
_PRINTF_FIELD = re.compile(r"%%|%(?:\([^)]*\))?[#0 +-]*(\*|\d*)(?:\.(\*|\d*))?")
_FORMATTER = string.Formatter()
_SCRIPT_LOG = logging.getLogger("panjereh.scripts")
_PRINTED = 2000


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
            "print": self.print,
        }
        # isinstance is safe here: scripts cannot define classes (so no __instancecheck__
        # hooks) and can only name the classes offered above.
        offered.update((error.__name__, error) for error in _EXCEPTIONS)
        denied = {name: Unavailable(name) for name in vars(builtins) if not name.startswith("_")}
        self._builtins = {**denied, **offered, **helpers}

    def namespace(self, *, expression: bool) -> dict[str, Any]:
        """Internal names plus ``__builtins__`` for one mode; expressions get no mutators."""
        return {
            GETATTR: self._getattr_guard(_READ if expression else _READ_WRITE, expression),
            ADD: self.add, MUL: self.mul, POW: self.pow, LSHIFT: self.lshift, MOD: self.mod,
            INPLACE_ITEM: self.inplace_item,
            CATCHABLE: catchable, RAISABLE: raisable, HANDLER: enter_handler, LOOP_MARK: None,
            # Conditions and other expressions have no side effects, printing included.
            "__builtins__": {**self._builtins, "print": Unavailable("print")} if expression else self._builtins,
        }

    def _getattr_guard(self, tables: dict[type, frozenset[str]], expression: bool
                       ) -> Callable[[Any, str], Any]:
        # str methods whose output size depends on their arguments, wrapped to check it first.
        wrappers: dict[str, Callable[[str], Callable[..., str]]] = {
            name: functools.partial(self._pad, method=name) for name in ("center", "ljust", "rjust", "zfill")
        }
        wrappers.update(join=self._join, replace=self._replace, format=self._format)

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

    # Each operator guard checks inline rather than through a shared helper: under the
    # tracer every extra Python call costs about a microsecond. `inplace` keeps the
    # in-place semantics of "a op= b" (a list extended in place stays the same object).

    def add(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a + b``."""
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._check_length(len(a) + len(b), "'+'")
        return _IN_PLACE["+"](a, b) if inplace else a + b

    def mul(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a * b``."""
        if isinstance(a, int) and isinstance(b, int):
            self._check_bits(a.bit_length() + b.bit_length(), "*")
        elif isinstance(a, _SEQUENCES) and isinstance(b, int):
            self._check_length(len(a) * b, "'*'")
        elif isinstance(b, _SEQUENCES) and isinstance(a, int):
            self._check_length(len(b) * a, "'*'")
        return _IN_PLACE["*"](a, b) if inplace else a * b

    def pow(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a ** b``."""
        if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
            self._check_bits(a.bit_length() * b, "**")
        return _IN_PLACE["**"](a, b) if inplace else a**b

    def lshift(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a << b``."""
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._check_bits(a.bit_length() + b, "<<")
        return _IN_PLACE["<<"](a, b) if inplace else a << b

    def mod(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a % b``, which is also %-formatting when `a` is text."""
        if isinstance(a, (str, bytes)):
            template = a.decode("latin-1") if isinstance(a, bytes) else a
            for match in _PRINTF_FIELD.finditer(template):
                for digits in match.groups():
                    if digits == "*":
                        refuse("'*' widths in %-formatting are not allowed")
                    if digits:
                        self._check_length(int(digits[:20]), "a %-format width")
        return _IN_PLACE["%"](a, b) if inplace else a % b

    @staticmethod
    def inplace_item(guard: Callable[[Any, Any, bool], Any], target: Any, key: Any, value: Any) -> None:
        """Guarded ``target[key] op= value``; `guard` is the operator's guard."""
        target[key] = guard(target[key], value, True)

    @staticmethod
    def print(*values: Any, sep: str | None = " ", end: str | None = None, flush: bool = False) -> None:
        """`print` to the engine's log (a server has no console): one line of at most 2,000
        characters, line breaks escaped so a script cannot forge log records."""
        joiner = " " if sep is None else str(sep)[:_PRINTED]
        text = joiner.join(str(value)[:_PRINTED] for value in values[:_PRINTED])[:_PRINTED]
        _SCRIPT_LOG.info("script printed: %s", text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r"))

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
