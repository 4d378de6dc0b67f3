"""Run-time guards of the script sandbox: what a script can reach, and how big it may grow.

`sandbox_ast` rewrites attribute reads, the operators that can grow a value
(``+ * ** << %`` and the set operators), unpacking (``[*a, *b]``, ``{**d}``, ``f(*a)``),
slice assignment, f-strings, and the values that comparisons and hashing walk
(subscript keys, set elements, dict keys, compared operands) into calls to `Guards`, and
scripts see only the builtins assembled in `Guards.namespace` (`sandbox_builtins`). So
everything a script can reach at run time is listed in these files; the per-type
attribute tables are the whole remaining surface, and methods whose output can outgrow
their input are wrapped here to check it first.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import math
import operator
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from datetime import date, datetime, timedelta, timezone
from datetime import time as time_of_day
from typing import Any

from engine.core.sandbox_builtins import Conversions, keys_of, real_class
from engine.core.sandbox_formatting import Formatting, format_spec_problem
from engine.core.sandbox_run import (
    SandboxLimits,
    Unavailable,
    catchable,
    enter_handler,
    raisable,
    refuse,
)
from engine.core.sandbox_sizes import NESTED, Budget

__all__ = ["COMPARING", "ELEMENT_BLIND", "Guards", "format_spec_problem"]

# Names the rewritten code calls. The static check refuses every name starting with "_",
# so scripts cannot refer to (or shadow) them, and the environment puts them over task data.
GETATTR, ADD, MUL, POW = "__sbx_getattr", "__sbx_add", "__sbx_mul", "__sbx_pow"
LSHIFT, MOD = "__sbx_lshift", "__sbx_mod"
OR, AND, XOR, SUB = "__sbx_or", "__sbx_and", "__sbx_xor", "__sbx_sub"
INPLACE_ITEM = "__sbx_inplace_item"
CATCHABLE, RAISABLE, HANDLER = "__sbx_catchable", "__sbx_raisable", "__sbx_handler"
LOOP_MARK = "__sbx_loop"
# A compared or hashed value: `TYPE(x) in NESTED` is the cheap inline test, `CHECKED` the walk.
TYPE, NESTED_TYPES, CHECKED, CONTAINS = "__sbx_type", "__sbx_nested", "__sbx_checked", "__sbx_contains"
SEARCHED_TYPES = "__sbx_searched"
SPREAD, DISPLAY, DICT_DISPLAY, KEYWORDS = "__sbx_spread", "__sbx_display", "__sbx_dict_display", "__sbx_keywords"
SLICE_TARGET, FSTRING = "__sbx_slice_target", "__sbx_fstring"

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
    "|": operator.ior, "&": operator.iand, "^": operator.ixor, "-": operator.isub,
}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "|": operator.or_, "&": operator.and_, "^": operator.xor, "-": operator.sub,
}
_SEQUENCES = (str, bytes, list, tuple)
# Values whose search through a list is measured: containers (compared item by item) and
# text (compared character by character with every item of the same length).
_SEARCHED = NESTED | {str, bytes}
_EMPTY: dict[str, int] = {}
# Dict views take any iterable in "&", "|", "^" and "-", and hash each of its elements.
_VIEWS = frozenset({type(_EMPTY.keys()), type(_EMPTY.items())})
_HASHED = _VIEWS | {set, frozenset}
# Unicode case mapping writes up to three characters for one ("ß".upper() is "SS", "ﬃ" is "FFI").
_CASE_GROWTH = 3
_CASE_METHODS = ("upper", "lower", "casefold", "swapcase", "title", "capitalize")
# strftime's widest directive writes about a dozen characters for its two ("%c").
_STRFTIME_GROWTH = 16
_NUMBERS = (int, float)
_Wrapper = Callable[["Guards", Any], Callable[..., Any]]


class _Spread:
    """One ``*x`` or ``**x`` in a display or a call, already sized."""

    __slots__ = ("items",)

    def __init__(self, items: Any) -> None:
        self.items = items


class _SliceTarget:
    """``target[i:j] = values`` with the list's new length checked before it grows."""

    __slots__ = ("budget", "target")

    def __init__(self, target: Any, budget: Budget) -> None:
        self.target = target
        self.budget = budget

    def __setitem__(self, key: Any, values: Any) -> None:
        if type(self.target) is list and type(key) is slice:
            items = self.budget.items(values, "slice assignment")
            removed = len(range(*key.indices(len(self.target))))
            self.budget.length(len(self.target) - removed + len(items), "slice assignment")
            self.target[key] = items
        else:
            self.target[key] = values


# The modules the offered date and time classes import for themselves, from C: `date.today()`
# asks `time` for the clock and `strptime` loads `_strptime`, each through the `__import__` of the
# calling frame's builtins. Scripts never reach this function (they may not name anything
# starting with an underscore), so it answers those two already loaded modules and nothing else.
_INTERNAL_MODULES = {"time": time, "_strptime": importlib.import_module("_strptime")}


def _internal_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    if level == 0 and name in _INTERNAL_MODULES:
        return _INTERNAL_MODULES[name]
    raise ImportError(f"scripts cannot import modules ({name!r})")


class Guards:
    """The functions rewritten script code calls, bound to one set of limits."""

    def __init__(self, limits: SandboxLimits, helpers: Mapping[str, Any]) -> None:
        self.limits = limits
        self.budget = Budget(limits)
        self.formatting = Formatting(self.budget)
        self.conversions = Conversions(self.budget)
        offered: dict[str, Any] = {
            "abs": abs, "all": all, "any": any, "bool": bool, "float": float, "isinstance": isinstance,
            "len": len, "datetime": datetime, "date": date, "timedelta": timedelta, "timezone": timezone,
            "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt,
            **self.conversions.offered(),
        }
        # isinstance is safe here: scripts cannot define classes (so no __instancecheck__
        # hooks of theirs) and can only name the classes offered above.
        offered.update((error.__name__, error) for error in _EXCEPTIONS)
        denied = {name: Unavailable(name) for name in vars(builtins) if not name.startswith("_")}
        self._builtins = {**denied, **offered, **helpers, "__import__": _internal_import}

    def namespace(self, *, expression: bool) -> dict[str, Any]:
        """Internal names plus ``__builtins__`` for one mode; expressions get no mutators."""
        return {
            GETATTR: self._getattr_guard(_READ if expression else _READ_WRITE, expression),
            ADD: self.add, MUL: self.mul, POW: self.pow, LSHIFT: self.lshift, MOD: self.mod,
            OR: self._set_operator("|"), AND: self._set_operator("&"), XOR: self._set_operator("^"),
            SUB: self._set_operator("-"), INPLACE_ITEM: self.inplace_item,
            TYPE: type, NESTED_TYPES: NESTED, CHECKED: self.checked, CONTAINS: self.contains,
            SEARCHED_TYPES: _SEARCHED,
            SPREAD: self.spread, DISPLAY: self.display, DICT_DISPLAY: self.dict_display, KEYWORDS: self.keywords,
            SLICE_TARGET: self.slice_target, FSTRING: self.formatting.fstring,
            CATCHABLE: catchable, RAISABLE: raisable, HANDLER: enter_handler, LOOP_MARK: None,
            # Conditions and other expressions have no side effects, printing included.
            "__builtins__": {**self._builtins, "print": Unavailable("print")} if expression else self._builtins,
        }

    def _getattr_guard(self, tables: dict[type, frozenset[str]], expression: bool
                       ) -> Callable[[Any, str], Any]:
        def guarded_getattr(obj: Any, name: str) -> Any:
            if isinstance(obj, Unavailable):
                obj.refuse()
            if isinstance(obj, type):
                obj = real_class(obj)
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
            if obj is str and name in _CASE_METHODS:
                return functools.partial(_unbound_case, self, name)
            wrapper = _METHODS.get((type(obj), name))
            return wrapper(self, obj) if wrapper else getattr(obj, name)

        return guarded_getattr

    # Each operator guard checks inline rather than through a shared helper: under the
    # tracer every extra Python call costs about a microsecond. `inplace` keeps the
    # in-place semantics of "a op= b" (a list extended in place stays the same object).

    def add(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a + b``."""
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self.budget.length(len(a) + len(b), "'+'")
        return _IN_PLACE["+"](a, b) if inplace else a + b

    def mul(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a * b``."""
        if isinstance(a, int) and isinstance(b, int):
            self.budget.bits(a.bit_length() + b.bit_length(), "'*'")
        elif isinstance(a, _SEQUENCES) and isinstance(b, int):
            self.budget.length(len(a) * b, "'*'")
        elif isinstance(b, _SEQUENCES) and isinstance(a, int):
            self.budget.length(len(b) * a, "'*'")
        return _IN_PLACE["*"](a, b) if inplace else a * b

    def pow(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a ** b``."""
        if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
            self.budget.bits(a.bit_length() * b, "'**'")
        return _IN_PLACE["**"](a, b) if inplace else a**b

    def lshift(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a << b``."""
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self.budget.bits(a.bit_length() + b, "'<<'")
        return _IN_PLACE["<<"](a, b) if inplace else a << b

    def mod(self, a: Any, b: Any, inplace: bool = False) -> Any:
        """Guarded ``a % b``, which is %-formatting when `a` is text."""
        if type(a) is str:
            return self.formatting.printf(a, b)
        return _IN_PLACE["%"](a, b) if inplace else a % b

    def _set_operator(self, symbol: str) -> Callable[..., Any]:
        """Guarded ``a | b``, ``a & b``, ``a ^ b`` or ``a - b``: a union can outgrow both operands,
        and a dict view hashes every element of the other operand."""
        plain, in_place = _OPERATORS[symbol], _IN_PLACE[symbol]

        def guarded(a: Any, b: Any, inplace: bool = False) -> Any:
            if not (isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS)):
                if symbol in "|^" and isinstance(a, Sized) and isinstance(b, Sized):
                    self.budget.length(len(a) + len(b), f"'{symbol}'")
                if type(a) in _VIEWS or type(b) in _VIEWS:
                    for side in (a, b):
                        if type(side) not in _HASHED:
                            self.budget.walk(side, f"'{symbol}'")
            return in_place(a, b) if inplace else plain(a, b)

        return guarded

    @staticmethod
    def inplace_item(guard: Callable[[Any, Any, bool], Any], target: Any, key: Any, value: Any) -> None:
        """Guarded ``target[key] op= value``; `guard` is the operator's guard."""
        target[key] = guard(target[key], value, True)

    def checked(self, value: Any) -> Any:
        """`value`, once it is safe to compare or hash (not too big a walk, not too deep)."""
        if type(value) in NESTED:
            self.budget.compared(value, "comparing or hashing a value")
        return value

    def contains(self, value: Any, container: Any) -> bool:
        """``value in container``, once the hashing or the comparisons it takes are bounded."""
        if type(value) in _SEARCHED:
            self.budget.scan(container, value, "'in'")
        return value in container

    def spread(self, values: Any) -> _Spread:
        """One ``*values`` or ``**values``, sized (an iterator is read up to the limit)."""
        return _Spread(values if isinstance(values, dict) else self.budget.items(values, "unpacking"))

    def display(self, kind: str, *parts: Any) -> Any:
        """A list, tuple or set display (or a call's positional arguments) holding ``*x`` parts."""
        total = sum(len(part.items) if type(part) is _Spread else 1 for part in parts)
        self.budget.length(total, f"unpacking into a {kind}")
        items: list[Any] = []
        for part in parts:
            if type(part) is _Spread:
                items.extend(part.items)
            else:
                items.append(part)
        if kind == "set":
            return set(self.budget.walk(items, "a set"))
        return tuple(items) if kind == "tuple" else items

    def dict_display(self, *parts: Any) -> dict[Any, Any]:
        """A dict display holding ``**x`` parts; the other parts are (key, value) pairs."""
        total = sum(len(part.items) if type(part) is _Spread else 1 for part in parts)
        self.budget.length(total, "unpacking into a dict")
        result: dict[Any, Any] = {}
        for part in parts:
            if type(part) is not _Spread:
                result[part[0]] = part[1]
            elif isinstance(part.items, dict):
                result.update(part.items)
            else:
                raise TypeError(f"'{type(part.items).__name__}' object is not a mapping")
        return result

    def keywords(self, *parts: Any) -> dict[str, Any]:
        """A call's keyword arguments when it has ``**x`` parts; the others are (name, value) pairs."""
        result = self.dict_display(*(part if type(part) is _Spread else (part[0], part[1]) for part in parts))
        seen = sum(len(part.items) if type(part) is _Spread else 1 for part in parts)
        if len(result) != seen:
            raise TypeError("got multiple values for the same keyword argument")
        if not all(isinstance(name, str) for name in result):
            raise TypeError("keywords must be strings")
        return result

    def slice_target(self, target: Any) -> _SliceTarget:
        """What ``target[i:j] = values`` assigns through."""
        return _SliceTarget(target, self.budget)

    # --- methods whose output can outgrow their object -----------------------------------

    def _join(self, separator: str) -> Callable[[Iterable[Any]], str]:
        def join(parts: Iterable[Any]) -> str:
            items = self.budget.items(parts, "str.join()")
            length = sum(len(item) for item in items if isinstance(item, str))
            self.budget.length(length + len(separator) * max(len(items) - 1, 0), "str.join()")
            return separator.join(items)
        return join

    def _replace(self, text: str) -> Callable[..., str]:
        def replace(old: str, new: str, count: int = -1) -> str:
            if isinstance(old, str) and isinstance(new, str):
                hits = text.count(old) if old else len(text) + 1
                if isinstance(count, int) and count >= 0:
                    hits = min(hits, count)
                self.budget.length(len(text) + hits * (len(new) - len(old)), "str.replace()")
            return text.replace(old, new, count)
        return replace

    def _pad(self, text: str, method: str) -> Callable[..., str]:
        bound = getattr(text, method)

        def pad(width: int, *fill: str) -> str:
            if isinstance(width, int):
                self.budget.length(width, f"str.{method}()")
            padded: str = bound(width, *fill)
            return padded
        return pad

    def _case(self, text: str, method: str) -> Callable[[], str]:
        def case() -> str:
            if not text.isascii():
                self.budget.length(_CASE_GROWTH * len(text), f"str.{method}()")
            changed: str = getattr(text, method)()
            return changed
        return case

    def _format(self, template: str) -> Callable[..., str]:
        def format_text(*args: Any, **kwargs: Any) -> str:
            return self.formatting.format(template, args, kwargs)
        return format_text

    def _strftime(self, moment: date | time_of_day) -> Callable[[str], str]:
        def strftime(pattern: str) -> str:
            if isinstance(pattern, str):
                self.budget.length(_STRFTIME_GROWTH * len(pattern), "strftime()")
            return moment.strftime(pattern)
        return strftime

    def _extend(self, target: list[Any]) -> Callable[[Iterable[Any]], None]:
        def extend(items: Iterable[Any]) -> None:
            values = self.budget.items(items, "list.extend()")
            self.budget.length(len(target) + len(values), "list.extend()")
            target.extend(values)
        return extend

    def _compares(self, target: Any, method: str) -> Callable[..., Any]:
        """list.index/count/remove and dict/set lookups: what they hash or compare is bounded first."""
        bound = getattr(target, method)

        def lookup(*args: Any) -> Any:
            if args and type(args[0]) in _SEARCHED:
                self.budget.scan(target, args[0], f"{method}()")
            return bound(*args)
        return lookup

    def _sort(self, target: list[Any]) -> Callable[..., None]:
        def sort(*, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
            target[:] = self.conversions.sorted(target, key=key, reverse=reverse)
        return sort

    def _takes_iterables(self, target: Any, method: str, grows: bool) -> Callable[..., Any]:
        """dict.update and the set methods taking iterables: sized, and hashed safely, first."""
        bound = getattr(target, method)

        def take(*others: Any, **keywords: Any) -> Any:
            sized = [self.budget.items(other, f"{method}()") for other in others]
            if grows:
                total = len(target) + sum(len(other) for other in sized) + len(keywords)
                self.budget.length(total, f"{method}()")
            for other in sized:
                if type(other) not in _HASHED and type(other) is not dict:
                    self.budget.walk(keys_of(other) if type(target) is dict else other, f"{method}()")
            return bound(*sized, **keywords)
        return take


def _unbound_case(guards: Guards, method: str, text: Any) -> str:
    if type(text) is not str:
        raise TypeError(f"str.{method}() needs a str, not {type(text).__name__}")
    return guards._case(text, method)()


def _wrap(factory: Callable[..., Callable[..., Any]], *args: Any) -> _Wrapper:
    return lambda guards, target: factory(guards, target, *args)


# Methods that compare or hash the value a script passes them, by type: each walks the
# value first (a shared nested value can cost 10**9 steps in one C call). A method that
# `_READ`/`_WRITE` allows on these types is either here, wrapped below for growth, or
# listed in `ELEMENT_BLIND` (a test holds the three together).
COMPARING: dict[type, tuple[str, ...]] = {
    list: ("index", "count", "remove"), tuple: ("index", "count"),
    dict: ("get", "pop", "setdefault"), set: ("add", "discard", "remove"),
}
# Allowed methods that never compare or hash a caller's value (positions are ints).
ELEMENT_BLIND: dict[type, frozenset[str]] = {
    list: frozenset({"copy", "append", "clear", "insert", "pop", "reverse"}),
    tuple: frozenset(),
    dict: frozenset({"copy", "items", "keys", "values", "clear", "popitem"}),
    set: frozenset({"copy", "clear", "pop"}),
}
_GROWING = ("union", "update", "symmetric_difference", "symmetric_difference_update")
_LOOKING_UP = ("intersection", "intersection_update", "difference", "difference_update", "issubset", "issuperset",
               "isdisjoint")
_METHODS: dict[tuple[type, str], _Wrapper] = {
    **{(str, name): _wrap(Guards._pad, name) for name in ("center", "ljust", "rjust", "zfill")},
    **{(str, name): _wrap(Guards._case, name) for name in _CASE_METHODS},
    (str, "join"): Guards._join, (str, "replace"): Guards._replace, (str, "format"): Guards._format,
    **{(kind, "strftime"): Guards._strftime for kind in (date, datetime, time_of_day)},
    (list, "extend"): Guards._extend, (list, "sort"): Guards._sort,
    **{(kind, name): _wrap(Guards._compares, name) for kind, names in COMPARING.items() for name in names},
    (dict, "update"): _wrap(Guards._takes_iterables, "update", True),
    **{(set, name): _wrap(Guards._takes_iterables, name, True) for name in _GROWING},
    **{(set, name): _wrap(Guards._takes_iterables, name, False) for name in _LOOKING_UP},
}
