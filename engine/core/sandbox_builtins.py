"""The builtins scripts see, each checked against the limits before its C code runs.

Conversions are growth paths too: ``str`` of a list holding a list ... a thousand times is
exponential output from one call, ``list`` of an iterator materializes all of it,
``int('f' * 10**6, 16)`` builds a number whose division is quadratic, ``set`` and ``dict``
hash every element (CPython hashes nested tuples by unguarded C recursion: deep enough, the
process crashes). ``str``, ``int``, ``list``, ``tuple``, ``set`` and ``dict`` are stand-in
classes: calling one checks first, and ``isinstance`` and their class attributes still work.
``zip``, ``map``, ``filter``, ``enumerate`` and ``reversed`` hand out their items through a
meter, so a C function consuming them (``max``, ``sorted``, ``list``) still reaches the CPU
and memory checks.
"""

from __future__ import annotations

import builtins
import json
import logging
import math
import operator
import reprlib
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

from engine.core.sandbox_run import checkpoint, json_size, refuse
from engine.core.sandbox_sizes import NESTED, Budget, shape

# Items (or tuple slots) handed out between two checks of the CPU and memory limits.
_METER_STEP = 4096
_PRINTED = 2000
_SCRIPT_LOG = logging.getLogger("panjereh.scripts")
_LOG2 = {2: 1.0, 8: 3.0, 16: 4.0, 32: 5.0}


class _StandIn(type):
    """Metaclass of the classes scripts see as ``str``, ``int``, ``list``...: a call is checked,
    ``isinstance`` and ``repr`` answer as for the real class."""

    real: type

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls.real)

    def __repr__(cls) -> str:
        return f"<class '{cls.real.__name__}'>"


def stand_in(real: type, convert: Callable[..., Any]) -> type:
    """A class scripts use in place of `real`: calling it runs `convert`."""
    # A metaclass of its own whose __call__ is `convert` itself: calling the class costs one
    # Python call, not two (each is a trace event while a script runs).
    meta = type(f"{real.__name__}_stand_in", (_StandIn,), {"__call__": staticmethod(convert)})
    created: type = meta(real.__name__, (), {"real": real})
    return created


def real_class(cls: Any) -> Any:
    """The builtin class behind a stand-in (or `cls` itself)."""
    return cls.real if isinstance(cls, _StandIn) else cls


def keys_of(pairs: Iterable[Any]) -> list[Any]:
    """The keys of (key, value) pairs, which is what building a dict hashes."""
    return list(map(operator.itemgetter(0), pairs))


def _metered(items: Iterator[Any], width: int) -> Iterator[Any]:
    done = 0
    for item in items:
        done += width
        if done >= _METER_STEP:
            done = 0
            checkpoint()
        yield item


class _Printed(reprlib.Repr):
    """``repr`` that stops early: `print` never builds the whole text of a big value to cut it."""

    def __init__(self) -> None:
        super().__init__()
        # At most 10**3 values are looked at, however much they share.
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple, self.maxset = 3, 10, 10, 10, 10
        self.maxstring, self.maxother, self.maxlong = _PRINTED, 200, 200

    def repr_str(self, x: str, level: int) -> str:
        return repr(x[:_PRINTED])


class Conversions:
    """The offered builtins that create or walk values, bound to one `Budget`."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._printed = _Printed()

    def offered(self) -> dict[str, Any]:
        """Name -> checked builtin, for the script's ``__builtins__``."""
        return {
            "str": stand_in(str, self.to_str), "int": stand_in(int, self.to_int),
            "list": stand_in(list, self.to_list), "tuple": stand_in(tuple, self.to_tuple),
            "set": stand_in(set, self.to_set), "dict": stand_in(dict, self.to_dict),
            "sorted": self.sorted, "min": self.min, "max": self.max, "zip": self.zip, "map": self.map,
            "filter": self.filter, "enumerate": self.enumerate, "reversed": self.reversed,
            "range": self.range, "round": self.round, "sum": self.sum, "print": self.print,
            "json_dumps": self.json_dumps, "json_loads": self.json_loads,
        }

    # --- conversions -------------------------------------------------------------------

    def to_str(self, value: Any = "", *args: Any) -> str:
        """`str`; the text of a container is measured before it is written."""
        if args or type(value) is str:
            return str(value, *args)
        if type(value) in NESTED or isinstance(value, BaseException):
            self.budget.length(self.budget.text(value, "str()"), "str()")
        return str(value)

    def to_int(self, value: Any = 0, base: Any = None) -> int:
        """`int`; text in another base than 10 is not bounded by Python's 4,300-digit rule."""
        if base is None:
            return int(value)
        if isinstance(value, str) and isinstance(base, int) and base != 10:
            per_digit = _LOG2.get(base, math.log2(base) if 2 <= base <= 36 else 5.0)
            self.budget.bits(int(len(value.strip()) * per_digit), "int()")
        return int(value, base)

    def to_list(self, values: Iterable[Any] = ()) -> list[Any]:
        """`list`, refused over the sequence limit before it is built."""
        return list(self.budget.items(values, "list()"))

    def to_tuple(self, values: Iterable[Any] = ()) -> tuple[Any, ...]:
        """`tuple`, refused over the sequence limit before it is built."""
        return tuple(self.budget.items(values, "tuple()"))

    def to_set(self, values: Iterable[Any] = ()) -> set[Any]:
        """`set`: within the sequence limit, and every element safe to hash."""
        return set(self.budget.walk(self.budget.items(values, "set()"), "set()"))

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        """`dict`: within the sequence limit, and every key safe to hash."""
        if not args:
            return dict(**kwargs)
        source = args[0]
        items = source if isinstance(source, dict) else self.budget.items(source, "dict()")
        self.budget.length(len(items) + len(kwargs), "dict()")
        if not isinstance(source, dict):
            self.budget.walk(keys_of(items), "dict()")
        return dict(items, *args[1:], **kwargs)

    # --- comparing -------------------------------------------------------------------

    def _key(self, key: Callable[[Any], Any] | None, what: str, rounds: int) -> Callable[[Any], Any] | None:
        """`key` with its results checked: together they may hold at most the limit of items,
        and of text compared `rounds` times."""
        if key is None:
            return None
        spent = [0, 0]
        limit = self.budget.max_items
        char_limit = self.budget.limits.max_compared_chars // rounds

        def checked(value: Any) -> Any:
            result = key(value)
            if type(result) in NESTED or type(result) in (str, bytes):
                nodes, chars = self.budget.compared(result, what, rounds)
                spent[0] += nodes
                spent[1] += chars
                if spent[0] > limit:
                    refuse(f"{what}: the sort keys hold more than {limit:,} items together, over the limit")
                if spent[1] > char_limit:
                    refuse(f"{what}: the sort keys hold more text than can be compared (more than "
                           f"{self.budget.limits.max_compared_chars:,} characters), over the limit")
            return result

        return checked

    def sorted(self, values: Iterable[Any], *, key: Callable[[Any], Any] | None = None,
               reverse: bool = False) -> list[Any]:
        """`sorted`, with what it compares measured first (each item takes part in about
        log2(n) comparisons)."""
        items = self.budget.items(values, "sorted()")
        rounds = max(1, len(items).bit_length())
        self.budget.compared(items, "sorted()", rounds)
        return builtins.sorted(items, key=self._key(key, "sorted()", rounds), reverse=reverse)

    def _extreme(self, pick: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        what = f"{name}()"
        if not args:
            return pick(**kwargs)
        values = self.budget.items(args[0], what) if len(args) == 1 else args
        self.budget.compared(values, what)
        if "key" in kwargs:
            kwargs = {**kwargs, "key": self._key(kwargs["key"], what, 1)}
        return pick(values, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        """`min`, with what it compares measured first."""
        return self._extreme(builtins.min, "min", args, kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        """`max`, with what it compares measured first."""
        return self._extreme(builtins.max, "max", args, kwargs)

    # --- lazy iteration --------------------------------------------------------------

    def zip(self, *iterables: Iterable[Any], strict: bool = False) -> Iterator[tuple[Any, ...]]:
        """`zip`, metered: each tuple counts as many items as it holds."""
        return _metered(builtins.zip(*iterables, strict=strict), max(len(iterables), 1))

    def map(self, function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """`map`, metered."""
        return _metered(builtins.map(function, *iterables), max(len(iterables), 1))

    def filter(self, function: Callable[[Any], Any] | None, iterable: Iterable[Any]) -> Iterator[Any]:
        """`filter`, metered."""
        return _metered(builtins.filter(function, iterable), 1)

    def enumerate(self, iterable: Iterable[Any], start: int = 0) -> Iterator[tuple[int, Any]]:
        """`enumerate`, metered."""
        return _metered(builtins.enumerate(iterable, start), 1)

    def reversed(self, sequence: Any) -> Iterator[Any]:
        """`reversed`, metered."""
        return _metered(builtins.reversed(sequence), 1)

    # --- numbers ---------------------------------------------------------------------

    def range(self, *args: int) -> range:
        """`range` that refuses more items than the sequence limit."""
        result = builtins.range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = sys.maxsize
        self.budget.length(length, "range()")
        return result

    def round(self, number: Any, ndigits: int | None = None) -> Any:
        """`round`; round(big_int, -huge) would compute 10**huge."""
        if isinstance(ndigits, int) and abs(ndigits) * 4 > self.budget.limits.max_int_bits:
            refuse(f"round() to {ndigits} digits is not allowed")
        return builtins.round(number, ndigits)

    def sum(self, items: Iterable[Any], start: Any = 0) -> Any:
        """`sum` of numbers; summing lists or strings is quadratic C work."""
        if not isinstance(start, (int, float, timedelta)):
            refuse("sum() only adds numbers and timedeltas")
        return builtins.sum(_metered(iter(items), 1), start)

    # --- text and JSON -------------------------------------------------------------------

    def print(self, *values: Any, sep: Any = " ", end: Any = None, flush: bool = False) -> None:
        """`print` to the engine's log (a server has no console): one line of at most 2,000
        characters, line breaks escaped so a script cannot forge log records."""
        joiner = " " if sep is None else self._shown(sep)
        text = joiner.join(self._shown(value) for value in values[:_PRINTED])[:_PRINTED]
        _SCRIPT_LOG.info("script printed: %s", text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r"))

    def _shown(self, value: Any) -> str:
        if type(value) is str:
            return value[:_PRINTED]
        if type(value) not in NESTED and not isinstance(value, BaseException):
            return str(value)[:_PRINTED]
        small = shape(value, _PRINTED, self.budget.limits.max_data_depth, text=True)
        if small.chars <= _PRINTED and small.nodes <= _PRINTED and small.depth <= self.budget.limits.max_data_depth:
            return str(value)[:_PRINTED]
        return self._printed.repr(value)[:_PRINTED]

    def json_dumps(self, value: Any, sort_keys: bool = False) -> str:
        """JSON text of plain data, refused when it would be over the sequence limit."""
        limit = self.budget.max_items
        if json_size(value, limit, self.budget.limits.max_data_depth) > limit:
            refuse(f"json_dumps() would produce more than {limit:,} characters")
        return json.dumps(value, sort_keys=bool(sort_keys))

    def json_loads(self, text: Any) -> Any:
        """Plain data from JSON text (no hooks or custom classes), within the size and depth limits."""
        if isinstance(text, str):
            self.budget.length(len(text), "json_loads()")
        try:
            value = json.loads(text)
        except RecursionError:
            refuse(f"json_loads(): the text is nested more than {self.budget.limits.max_data_depth} levels deep")
        return self.budget.walk(value, "json_loads()")
