"""Measuring a script's values before a C call works on them, without materializing anything.

One C call can do work exponential in the size of its input when the input shares
sub-objects: ``a = [a, a]`` forty times is a list of 41 objects that ``str``, ``==`` and
``hash`` each see as a tree of a trillion. The tracer cannot interrupt a C call, so the
guards measure first: `Shape` counts the nodes such a walk would visit (every shared object
counted each time it is reached) and the characters ``repr`` would write, memoized by
object so the measuring itself stays linear in the distinct objects, and stops as soon as
the budget is passed. Depth is measured too: CPython hashes nested tuples by plain C
recursion, so a tuple nested a hundred thousand deep crashes the process when hashed.
"""

from __future__ import annotations

import math
from collections.abc import Sized
from dataclasses import dataclass
from itertools import islice, repeat
from typing import Any

from engine.core.sandbox_run import SandboxLimits, refuse

_EMPTY: dict[str, int] = {}
NESTED: frozenset[type] = frozenset({
    list, tuple, dict, set, frozenset, type(_EMPTY.keys()), type(_EMPTY.values()), type(_EMPTY.items()),
})
# What "in", index() and count() go through item by item, comparing.
SCANNED: frozenset[type] = frozenset({list, tuple, type(_EMPTY.values())})
_LOG10_2 = math.log10(2)


def int_digits(number: int) -> int:
    """Characters of ``str(number)`` (sign included), from its size alone."""
    return int(number.bit_length() * _LOG10_2) + 2


def str_length(text: str, quoted: bool) -> int:
    """Characters of `text` as ``str`` writes it, or as ``repr`` does when `quoted` (an upper bound)."""
    if not quoted:
        return len(text)
    if text.isprintable():
        return len(text) + 2 + text.count("\\") + text.count("'")
    # A non-printable character becomes an escape of up to ten characters (\U0010ffff).
    return 10 * len(text) + 2


def _flat_lengths(items: Any, kinds: set[type]) -> int | None:
    """Characters of the text among a container's flat elements, or None when of mixed kinds."""
    if kinds <= {str} or kinds <= {bytes}:
        return sum(map(len, items))
    if kinds.isdisjoint((str, bytes)):
        return 0
    return None


def _flat_chars(items: Any, kinds: set[type], budget: int) -> int | None:
    """Repr characters of a container's flat elements at C speed, or None when of mixed kinds.

    Past `budget` the count stops being exact (it is then only known to be over): reading
    every character of a list that holds one long string a million times would itself be
    the slow C loop the measuring is there to prevent.
    """
    count = len(items)
    if kinds <= {str}:
        lengths = sum(map(len, items))
        if lengths > budget:
            return lengths
        if all(map(str.isprintable, items)):
            quotes = sum(map(str.count, items, repeat("'"))) + sum(map(str.count, items, repeat("\\")))
            return sum(map(len, items)) + 2 * count + quotes
        return 10 * sum(map(len, items)) + 2 * count
    if kinds <= {int, bool}:
        return int(sum(map(int.bit_length, items)) * _LOG10_2) + 2 * count
    if kinds <= {float, int, bool, type(None)} and not kinds & {int}:
        return 24 * count
    return None


class _Over(Exception):
    """The walk passed its budget or its depth."""


@dataclass(frozen=True)
class Shape:
    """What a recursive C walk of one value would face.

    Attributes:
        nodes: objects visited, a shared one each time it is reached (capped just past the budget).
        chars: characters ``repr`` would write, when asked for (capped the same way).
        depth: deepest nesting of containers (just past the limit when over it).
    """

    nodes: int
    chars: int
    depth: int


class _Walk:
    def __init__(self, budget: int, max_depth: int, text: bool, lengths: bool = False,
                 char_budget: int | None = None) -> None:
        self.budget = budget
        self.char_budget = budget if char_budget is None else char_budget
        self.max_depth = max_depth
        self.text = text
        self.lengths = lengths
        self.nodes = 0
        self.chars = 0
        self.memo: dict[int, tuple[int, int, int]] = {}
        self.open: set[int] = set()
        # Memo keys are ids: the objects must stay alive while the walk runs.
        self.kept: list[object] = []

    def add(self, nodes: int, chars: int) -> None:
        self.nodes += nodes
        self.chars += chars
        if self.nodes > self.budget or self.chars > self.char_budget:
            raise _Over

    def scalar_chars(self, value: Any) -> int:
        if not self.text:
            return len(value) if self.lengths and type(value) in (str, bytes) else 0
        kind = type(value)
        if kind is str:
            return str_length(value, quoted=True)
        if kind is int:
            return int_digits(value)
        # Dates, functions, classes, iterators: every object a script reaches has a short repr.
        return len(repr(value))

    def children(self, value: Any) -> tuple[Any, int]:
        """The parts a walk of `value` visits, and the characters of repr's own punctuation."""
        kind = type(value)
        if kind is dict:
            return (*value.keys(), *value.values()), 2 + 4 * len(value)
        if isinstance(value, BaseException):
            return value.args, len(kind.__name__) + 2 + 2 * len(value.args)
        named = 0 if kind in (list, tuple, set) else len(kind.__name__) + 2
        return value, 2 + 2 * len(value) + named

    def visit(self, value: Any, depth: int) -> int:
        """The height of `value`, its nodes and characters counted into the totals."""
        kind = type(value)
        if kind not in NESTED and not isinstance(value, BaseException):
            self.add(1, self.scalar_chars(value))
            return 0
        if depth > self.max_depth:
            raise _Over
        key = id(value)
        if key in self.memo:
            seen_nodes, seen_chars, seen_height = self.memo[key]
            if depth + seen_height > self.max_depth:
                raise _Over
            self.add(seen_nodes, seen_chars)
            return seen_height
        if key in self.open:  # a cycle: repr writes "[...]"
            self.add(1, 5 if self.text else 0)
            return 0
        self.open.add(key)
        self.kept.append(value)
        start_nodes, start_chars = self.nodes, self.chars
        parts, punctuation = self.children(value)
        self.add(1, punctuation if self.text else 0)
        kinds = set(map(type, parts))
        flat = NESTED.isdisjoint(kinds) and not any(issubclass(k, BaseException) for k in kinds)
        chars: int | None = None
        if flat:
            if self.text:
                chars = _flat_chars(parts, kinds, self.char_budget)
            else:
                chars = _flat_lengths(parts, kinds) if self.lengths else 0
        if chars is not None:
            self.add(len(parts), chars)
            height = 1 if parts else 0
        else:
            height = max((self.visit(child, depth + 1) + 1 for child in parts), default=0)
        self.open.discard(key)
        self.memo[key] = (self.nodes - start_nodes, self.chars - start_chars, height)
        return height


def shape(value: Any, budget: int, max_depth: int, *, text: bool = False, lengths: bool = False,
          char_budget: int | None = None) -> Shape:
    """Measure `value` for a recursive C walk: nodes, characters and depth.

    The characters are those ``repr`` writes with `text`, the lengths of the strings and
    bytes reached with `lengths` (what comparing them may go through), else none. The counts
    stop just past `budget` (characters: `char_budget`, by default the same) and the depth
    just past `max_depth`, so a caller compares them with its limits; the work done is
    bounded by the budgets and by the number of distinct objects.
    """
    walk = _Walk(budget, max_depth, text, lengths, char_budget)
    try:
        height = walk.visit(value, 0)
    except _Over:
        within = walk.nodes <= budget and walk.chars <= walk.char_budget
        return Shape(walk.nodes, walk.chars, max_depth + 1 if within else 0)
    return Shape(walk.nodes, walk.chars, height)


class Budget:
    """The size limits of `SandboxLimits`, applied: each check returns, or refuses naming the limit."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.max_items = limits.max_sequence_length

    def length(self, count: int, what: str) -> None:
        """Refuse creating `count` items (or characters) in one operation over the limit."""
        if count > self.max_items:
            refuse(f"{what} would create {count:,} items, over the limit of {self.max_items:,}")

    def bits(self, bits: int, what: str) -> None:
        """Refuse an integer of about `bits` bits over the limit."""
        if bits > self.limits.max_int_bits:
            refuse(f"{what} would create an integer of about {bits:,} bits, over the limit of "
                   f"{self.limits.max_int_bits:,}")

    def walk(self, value: Any, what: str) -> Any:
        """`value`, once its nodes and depth are known to be within the limits of a C walk."""
        self.size(value, what)
        return value

    def size(self, value: Any, what: str) -> int:
        """The nodes a C walk of `value` visits, refused over the limits (of nodes, or of depth)."""
        if type(value) not in NESTED and not isinstance(value, BaseException):
            return 1
        found = shape(value, self.max_items, self.limits.max_data_depth)
        if found.nodes > self.max_items:
            refuse(f"{what} would go through more than {self.max_items:,} items (a value held in several "
                   f"places counts each time), over the limit")
        if found.depth > self.limits.max_data_depth:
            refuse(f"{what}: the value is nested more than {self.limits.max_data_depth} levels deep")
        return found.nodes

    def scan(self, container: Any, value: Any, what: str) -> None:
        """Refuse comparing `value` with every item of `container` when that is too much work.

        Comparing two values stops where the smaller ends, so the work is at most the items
        times `value`'s size, and at most the container's own size: one of them must fit.
        Size is counted twice: in objects, and in characters of the text they hold.
        """
        nodes, chars = self.compared(value, what)
        if type(container) in SCANNED and (len(container) * nodes > self.max_items
                                           or len(container) * chars > self.limits.max_compared_chars):
            self.compared(container, what)

    def compared(self, value: Any, what: str, rounds: int = 1) -> tuple[int, int]:
        """The objects and characters comparing `value` (`rounds` times) may go through,
        refused over the limits (of objects, of characters, or of depth)."""
        kind = type(value)
        if kind is str or kind is bytes:
            chars = len(value) * rounds
            if chars > self.limits.max_compared_chars:
                self._too_many_chars(what)
            return 1, chars
        if kind not in NESTED:
            return 1, 0
        limit = self.limits.max_compared_chars // rounds
        found = shape(value, self.max_items, self.limits.max_data_depth, lengths=True, char_budget=limit)
        if found.nodes > self.max_items:
            refuse(f"{what} would go through more than {self.max_items:,} items (a value held in several "
                   f"places counts each time), over the limit")
        if found.chars > limit:
            self._too_many_chars(what)
        if found.depth > self.limits.max_data_depth:
            refuse(f"{what}: the value is nested more than {self.limits.max_data_depth} levels deep")
        return found.nodes, found.chars

    def _too_many_chars(self, what: str) -> None:
        refuse(f"{what} would compare more than {self.limits.max_compared_chars:,} characters of text (a "
               "text held in several places counts each time), over the limit")

    def text(self, value: Any, what: str, conversion: str = "s") -> int:
        """About how many characters ``str`` (or ``repr``/``ascii``, by `conversion`) writes for `value`."""
        kind = type(value)
        if kind is str:
            if conversion == "s":
                return len(value)
            return str_length(value, quoted=True) if conversion == "r" else 10 * len(value) + 2
        if kind is int:
            return int_digits(value)
        if kind in NESTED or isinstance(value, BaseException):
            found = shape(value, self.max_items, self.limits.max_data_depth, text=True)
            if found.nodes > self.max_items or found.chars > self.max_items:
                refuse(f"{what} would write more than {self.max_items:,} characters, over the limit")
            if found.depth > self.limits.max_data_depth:
                refuse(f"{what}: the value is nested more than {self.limits.max_data_depth} levels deep")
            return found.chars * (10 if conversion == "a" else 1)
        return len(repr(value))

    def items(self, values: Any, what: str) -> Any:
        """`values` as something sized: itself when it has a length, else at most the limit of its items."""
        if isinstance(values, Sized):
            self.length(len(values), what)
            return values
        taken = list(islice(values, self.max_items + 1))
        self.length(len(taken), what)
        return taken
