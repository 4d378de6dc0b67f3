"""Text formatting in scripts, sized before it runs: ``%``, ``str.format`` and f-strings.

Each is one C call whose output can dwarf its inputs: ``'%s' * 1000 % ((big,) * 1000)``,
``'{0}{0}{0}'.format(big)``, ``f"{[big] * 1000}"``. The output's length is estimated from the
template and the values (widths, precisions, each value's ``str``/``repr`` length as
`Budget.text` measures it, shared values counted each time they are written) and refused
when over the sequence limit, before any character is written. Field names that look up
attributes or items (``{0.__class__}``, ``{0[key]}``) are refused outright: they reach
attributes by string, past the static check.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from engine.core.sandbox_run import refuse
from engine.core.sandbox_sizes import Budget

_PRINTF_FIELD = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0 +-]*(?P<width>\*|\d*)(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<type>.?)", re.DOTALL)
_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d*))?(?P<type>.?)$", re.DOTALL)
_FORMATTER = string.Formatter()
_FLOATS = frozenset("eEfFgG%")
# Digits a float can have before its point (1e308), and the sign.
_FLOAT_DIGITS = 310
# strftime's widest directive writes about a dozen characters for its two ("%c").
_STRFTIME_GROWTH = 16
_CONVERSIONS = {-1: "", 115: "s", 114: "r", 97: "a"}


def format_spec_problem(spec: str, limit: int) -> str | None:
    """Why a format spec (the part after ``:``) is refused, or None."""
    if "{" in spec:
        return "nested replacement fields in format specs are not allowed"
    for digits in re.findall(r"\d+", spec):
        if len(digits) > len(str(limit)) or int(digits) > limit:
            return f"format width or precision {digits} is over the limit of {limit:,}"
    return None


def _number(digits: str | None) -> int:
    # Widths and precisions longer than the limit's own digits are refused before any use.
    return int(digits[:20]) if digits and digits.isdigit() else 0


class Formatting:
    """The three ways of formatting text, each checked against one `Budget`."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.limit = budget.max_items

    def _field(self, value: Any, conversion: str, spec: str, what: str) -> int:
        """Characters one replacement field writes, at most."""
        found = _SPEC.match(spec)
        width = _number(found.group("width")) if found else 0
        precision = _number(found.group("precision")) if found else 0
        kind = found.group("type") if found else ""
        if isinstance(value, (date, time)) and spec and not conversion:
            return max(width, _STRFTIME_GROWTH * len(spec))
        length = self.budget.text(value, what, conversion or "s")
        if kind in _FLOATS or (isinstance(value, float) and not conversion):
            length += _FLOAT_DIGITS + precision
        return max(width, length)

    def _check(self, total: int, what: str) -> None:
        if total > self.limit:
            refuse(f"{what} would write about {total:,} characters, over the limit of {self.limit:,}")

    def printf(self, template: str, values: Any) -> str:
        """``template % values``, refused when its output would be over the limit."""
        total = len(template)
        keyed = isinstance(values, Mapping)
        positional = values if type(values) is tuple else (values,)
        index = 0
        for field in _PRINTF_FIELD.finditer(template):
            width, precision, kind = field.group("width"), field.group("precision"), field.group("type")
            if "*" in (width, precision):
                refuse("'*' widths in %-formatting are not allowed")
            for digits in (width, precision):
                if digits and (len(digits) > len(str(self.limit)) or int(digits) > self.limit):
                    refuse(f"a %-format width or precision of {digits} is over the limit of {self.limit:,}")
            if kind == "%":
                continue
            key = field.group("key")
            if key is not None and keyed:
                value = values.get(key)
            elif index < len(positional):
                value, index = positional[index], index + 1
            else:
                continue
            conversion = "r" if kind == "r" else "a" if kind == "a" else "s"
            spec = f"{width}.{precision}{kind}" if precision is not None else f"{width}{kind}"
            total += self._field(value, conversion if kind in "rsa" else "", spec, "%-formatting")
        self._check(total, "%-formatting")
        formatted: str = template % values
        return formatted

    def format(self, template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
        """``template.format(*args, **kwargs)``, refused when its output would be over the limit."""
        total, automatic = 0, 0
        for literal, field, spec, conversion in _FORMATTER.parse(template):
            total += len(literal)
            if field is None:
                continue
            # "{0.__class__}" and "{0[key]}" look attributes/items up by string at run
            # time, past the static check; positional and named fields are enough.
            if "." in field or "[" in field:
                refuse(f"attribute and index lookups in format fields are not allowed: '{{{field}}}'")
            problem = format_spec_problem(spec or "", self.limit)
            if problem:
                refuse(problem)
            if field == "":
                field, automatic = str(automatic), automatic + 1
            value = (args[int(field)] if int(field) < len(args) else None) if field.isdigit() else kwargs.get(field)
            total += self._field(value, conversion or "", spec or "", "str.format()")
        self._check(total, "str.format()")
        return template.format(*args, **kwargs)

    def fstring(self, parts: tuple[str | tuple[int, str], ...], *values: Any) -> str:
        """An f-string: `parts` are its literal pieces and (conversion, format spec) per value."""
        fields = [part for part in parts if not isinstance(part, str)]
        total = sum(len(part) for part in parts if isinstance(part, str))
        for (conversion, spec), value in zip(fields, values, strict=True):
            total += self._field(value, _CONVERSIONS[conversion], spec, "an f-string")
        self._check(total, "an f-string")
        pieces: list[str] = []
        remaining = iter(values)
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            conversion, spec = part
            value = next(remaining)
            if conversion == 115:
                value = str(value)
            elif conversion == 114:
                value = repr(value)
            elif conversion == 97:
                value = ascii(value)
            pieces.append(format(value, spec))
        return "".join(pieces)
