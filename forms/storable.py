"""What no database column keeps: NUL, which PostgreSQL refuses in text and in JSON, lone
surrogates (half of a UTF-16 pair), which no UTF-8 encoder writes, and in JSON numbers that are
not finite (NaN, Infinity), which PostgreSQL's JSON refuses; and the range of numbers that
every JSON reader keeps exactly, which the API and every form answer stay within.

Text from outside (API bodies and parameters, page addresses, form answers) and data a model
computes are checked here, by the API, the pages, form validation and the instance store alike,
so that they are refused with the place named instead of failing when they reach the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
"""Integers up to this size survive every JSON reader exactly (RFC 8259, section 6), and both
databases keep them; numbers the API takes and form answers lie within ±this."""
NUL_MESSAGE = "must not contain the NUL character"
NOT_FINITE_MESSAGE = "must be a finite number (not NaN or Infinity)"
SURROGATE_MESSAGE = "must not contain a lone surrogate (\\ud800-\\udfff without its pair)"


def unstorable_text(text: str) -> str | None:
    """Why no database column can keep `text`, as a short field message; None when one can."""
    if "\x00" in text:
        return NUL_MESSAGE
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


def escaped(text: str) -> str:
    """`text` with NUL and lone surrogates written as escapes (``\\x00``, ``\\ud800``): for messages
    (a script's error, an agency's answer) that are kept to be read, not compared."""
    if unstorable_text(text) is None:
        return text
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def unstorable_places(value: Any, at: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Where in a JSON-like `value` a key or a string holds a character no database keeps, or a
    number is not finite, and why.

    Walks without recursion, so any depth of nesting is safe to check.
    """
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(value, at)]
    while pending:
        node, path = pending.pop()
        if isinstance(node, str):
            problem = unstorable_text(node)
            if problem:
                yield path, problem
        elif isinstance(node, float) and not math.isfinite(node):
            yield path, NOT_FINITE_MESSAGE
        elif isinstance(node, dict):
            for key, item in node.items():
                problem = unstorable_text(key) if isinstance(key, str) else None
                if problem:
                    yield (*path, key), f"the name {problem}"
                pending.append((item, (*path, key)))
        elif isinstance(node, list | tuple):
            pending.extend((item, (*path, index)) for index, item in enumerate(node))


def out_of_range_places(value: Any, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where in a JSON-like `value` a finite number lies outside ±`MAX_SAFE_INTEGER`.

    Walks without recursion, like `unstorable_places`, which reports the numbers that are not finite.
    """
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(value, at)]
    while pending:
        node, path = pending.pop()
        if isinstance(node, bool):
            continue
        if isinstance(node, int | float):
            if math.isfinite(node) and not -MAX_SAFE_INTEGER <= node <= MAX_SAFE_INTEGER:
                yield path
        elif isinstance(node, dict):
            pending.extend((item, (*path, key)) for key, item in node.items())
        elif isinstance(node, list | tuple):
            pending.extend((item, (*path, index)) for index, item in enumerate(node))
