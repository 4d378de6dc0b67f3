"""JSON Schema keywords of our own, for rules Camunda Forms has and JSON Schema cannot say.

- ``x-not-in-past: true``: a date (ISO or Jalali) that is today or later, in Iran's time
  (form-js ``disallowPassedDates``);
- ``x-decimal-digits: n``: a number with at most n digits after the point (form-js ``decimalDigits``);
- ``x-increment: step``: a number that is a whole multiple of step, computed in decimal so that 0.3 is a
  multiple of 0.1 (form-js ``increment``; ``multipleOf`` works in binary floating point).

`FormValidator` is Draft 2020-12 with these keywords added, and with ``pattern`` and ``patternProperties``
matched by `forms.patterns` (linear time) instead of Python's backtracking `re`.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from forms.dates import as_gregorian, today_in_iran
from forms.patterns import search


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    # NaN and Infinity are no multiple of anything, and have no decimal places to count;
    # they are refused as not finite elsewhere.
    return number if number.is_finite() else None


def _not_in_past(_validator: Any, wanted: Any, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    day = as_gregorian(instance) if wanted is True and isinstance(instance, str) else None
    if day is not None and day < today_in_iran():
        yield ValidationError(f"{instance!r} is in the past")


def _decimal_digits(_validator: Any, limit: Any, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    number = _decimal(instance)
    exponent = number.normalize().as_tuple().exponent if number is not None else 0
    if isinstance(limit, int) and isinstance(exponent, int) and -exponent > limit:
        yield ValidationError(f"{instance!r} has more than {limit} decimal digits")


def _increment(_validator: Any, step: Any, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    number, divisor = _decimal(instance), _decimal(step)
    # As fractions, exactly: Decimal's remainder gives up (DivisionImpossible) once the
    # quotient has more digits than its context keeps, as 1e15 over a step of 1e-13 has.
    if number is not None and divisor and Fraction(number) % Fraction(divisor) != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


def _pattern(_validator: Any, pattern: Any, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and isinstance(pattern, str) and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    if not isinstance(instance, dict) or not isinstance(patterns, dict):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


FormValidator = validators.extend(Draft202012Validator, {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "x-not-in-past": _not_in_past,
    "x-decimal-digits": _decimal_digits,
    "x-increment": _increment,
})
