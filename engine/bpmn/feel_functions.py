"""The FEEL built-in functions the translator supports, and how each becomes Python.

FEEL counts string and list positions from 1 and lets negative positions count from the
end; `from_one` turns such a position into a Python index, statically when it is a literal.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from engine.bpmn.expression_syntax import call, compare, const, item, method

_TEMPORAL = ("date", "time", "date and time", "duration", "years and months duration",
             "day of week", "day of year", "week of year", "month of year", "last day of month")
# FEEL's pattern functions take regular expressions written by whoever uploads the model;
# Python's `re` would match them by backtracking, in one C call the sandbox cannot interrupt.
_PATTERNS = ("matches", "replace", "split")
REFUSED_FUNCTIONS = {
    "is defined": "is defined() needs the variable context, which a translated expression does not see",
    **dict.fromkeys(_TEMPORAL, "date and time functions are not supported"),
    **dict.fromkeys(_PATTERNS, "regular expressions are not supported (matches(), replace() and split() take a "
                    "pattern, and a backtracking pattern can hold the server); use contains(), starts with() or "
                    "ends with(), or a script task"),
}


class Refusal(Exception):
    """A function's arguments are outside the subset; the parser adds the position."""


def whole(node: ast.expr) -> int | None:
    """The value of a whole-number literal (``3``, ``-3``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = whole(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def from_one(position: ast.expr) -> ast.expr:
    """A 1-based FEEL position (negative: from the end) as a Python index."""
    literal = whole(position)
    if literal == 0:
        raise Refusal("FEEL positions start at 1, not 0")
    if literal is not None:
        return const(literal - 1) if literal > 0 else position
    return ast.IfExp(compare(position, ast.Gt(), const(0)), ast.BinOp(position, ast.Sub(), const(1)), position)


def _substring(args: list[ast.expr]) -> ast.expr:
    text, start = args[0], from_one(args[1])
    begin, length = whole(start), whole(args[2]) if len(args) == 3 else None
    if len(args) == 2:
        return item(text, ast.Slice(start, None))
    if begin is not None and length is not None:
        end = begin + length
        return item(text, ast.Slice(start, None if begin < 0 <= end else const(end)))
    if begin == 0:
        return item(text, ast.Slice(None, args[2]))
    if begin is not None and begin > 0:
        return item(text, ast.Slice(start, ast.BinOp(start, ast.Add(), args[2])))
    return item(item(text, ast.Slice(start, None)), ast.Slice(None, args[2]))


def _now() -> ast.expr:
    return method(ast.Name("datetime", ast.Load()), "now", ast.Attribute(ast.Name("timezone", ast.Load()), "utc",
                                                                        ast.Load()))


def _is_now(node: ast.expr) -> bool:
    return ast.dump(node) == ast.dump(_now()) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                              and node.func.attr == "date" and _is_now(node.func.value))


def _string(value: ast.expr) -> ast.expr:
    # FEEL writes dates and times in ISO 8601; Python's str() puts a space before the time.
    if _is_now(value):
        return method(method(value, "isoformat"), "replace", const("+00:00"), const("Z"))
    return call("str", value)


_Build = Callable[[list[ast.expr]], ast.expr]
# Supported functions: name -> (allowed argument counts, translation).
FUNCTIONS: dict[str, tuple[range, _Build]] = {
    "not": (range(1, 2), lambda a: ast.UnaryOp(ast.Not(), a[0])),
    "list contains": (range(2, 3), lambda a: compare(a[1], ast.In(), a[0])),
    "count": (range(1, 2), lambda a: call("len", a[0])),
    "sum": (range(1, 1000), lambda a: call("sum", a[0] if len(a) == 1 else ast.List(a, ast.Load()))),
    "min": (range(1, 1000), lambda a: call("min", *a)),
    "max": (range(1, 1000), lambda a: call("max", *a)),
    "string length": (range(1, 2), lambda a: call("len", a[0])),
    "upper case": (range(1, 2), lambda a: method(a[0], "upper")),
    "lower case": (range(1, 2), lambda a: method(a[0], "lower")),
    "contains": (range(2, 3), lambda a: compare(a[1], ast.In(), a[0])),
    "starts with": (range(2, 3), lambda a: method(a[0], "startswith", a[1])),
    "ends with": (range(2, 3), lambda a: method(a[0], "endswith", a[1])),
    "substring": (range(2, 4), _substring),
    # FEEL's modulo takes the sign of the divisor, exactly like Python's %.
    "modulo": (range(2, 3), lambda a: ast.BinOp(a[0], ast.Mod(), a[1])),
    "abs": (range(1, 2), lambda a: call("abs", a[0])),
    "floor": (range(1, 2), lambda a: call("floor", a[0])),
    "ceiling": (range(1, 2), lambda a: call("ceil", a[0])),
    "string join": (range(1, 3), lambda a: method(a[1] if len(a) == 2 else const(""), "join", a[0])),
    "string": (range(1, 2), lambda a: _string(a[0])),
    # The engine keeps time in UTC.
    "now": (range(0, 1), lambda a: _now()),
    "today": (range(0, 1), lambda a: method(_now(), "date")),
}
KNOWN = FUNCTIONS.keys() | REFUSED_FUNCTIONS.keys()
