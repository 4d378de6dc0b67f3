"""FEEL translation: the Python it produces runs in the real sandbox and gives FEEL's answers."""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.bpmn.expression_syntax import Untranslatable
from engine.bpmn.feel import feel_to_python, is_feel
from engine.core.sandbox import SandboxedEnvironment, check_source


@pytest.fixture(scope="module")
def sandbox() -> SandboxedEnvironment:
    return SandboxedEnvironment()


def same(result: Any, expected: Any) -> bool:
    # 1 == True in Python; a boolean answer must be a boolean.
    return bool(result == expected and type(result) is type(expected))


# (FEEL text, task data, value FEEL gives)
VALUES: list[tuple[str, dict[str, Any], Any]] = [
    ("amount > 1000", {"amount": 1500}, True),
    ("amount <= 1000", {"amount": 1500}, False),
    ("x in [1..10]", {"x": 10}, True),
    ("x in [1..10]", {"x": 11}, False),
    ("x in [1..10]", {"x": 1}, True),
    ("x in (1..10]", {"x": 1}, False),
    ("x in ]1..10]", {"x": 10}, True),
    ("x in [1..10)", {"x": 10}, False),
    ("x in [1..10[", {"x": 9.5}, True),
    ("x in ]1..10[", {"x": 10}, False),
    ("x in [low..limits.high]", {"x": 5, "low": 5, "limits": {"high": 6}}, True),
    ('x in ["a","b"]', {"x": "b"}, True),
    ('x in ("a", "b")', {"x": "c"}, False),
    ("x in (a, b)", {"x": 2, "a": 1, "b": 2}, True),
    ("x in < 5", {"x": 4}, True),
    ("x in (< 0, > 100)", {"x": 50}, False),
    ("x in (1, [5..9])", {"x": 7}, True),
    ("x in (1, [5..9])", {"x": 4}, False),
    ('x in "a"', {"x": "a"}, True),
    ("x in null", {"x": None}, True),
    ("x between 1 and 10", {"x": 10}, True),
    ("x between 1 and 10 and y", {"x": 5, "y": False}, False),
    ('if x > 1 then "big" else "small"', {"x": 0}, "small"),
    ("if a then 1 else if b then 2 else 3", {"a": False, "b": True}, 2),
    ("if x = null then 0 else x", {"x": None}, 0),
    ("list contains(l, 2)", {"l": [1, 2, 3]}, True),
    ("count(l)", {"l": [1, 2, 3]}, 3),
    ("sum(l)", {"l": [1, 2, 3]}, 6),
    ("sum(1, 2, 3)", {}, 6),
    ("min(l)", {"l": [4, 2, 3]}, 2),
    ("max(l)", {"l": [4, 2, 3]}, 4),
    ("max(1, 5, 2)", {}, 5),
    ('string length("hello")', {}, 5),
    ("upper case(s)", {"s": "abc"}, "ABC"),
    ('lower case("ABC")', {}, "abc"),
    ('contains(s, "bc")', {"s": "abc"}, True),
    ('starts with(s, "ab")', {"s": "abc"}, True),
    ('ends with(s, "x")', {"s": "abc"}, False),
    ('substring("foobar", 3)', {}, "obar"),
    ('substring("foobar", 3, 3)', {}, "oba"),
    ('substring("foobar", 1, 2)', {}, "fo"),
    ('substring("foobar", -2, 1)', {}, "a"),
    ('substring("foobar", -3, 3)', {}, "bar"),
    ('substring("foobar", -2)', {}, "ar"),
    ("substring(s, i, n)", {"s": "foobar", "i": 2, "n": 3}, "oob"),
    ("substring(s, i, n)", {"s": "foobar", "i": -3, "n": 2}, "ba"),
    ("substring(s, i)", {"s": "foobar", "i": 4}, "bar"),
    ("substring(s, 1, n)", {"s": "foobar", "n": 2}, "fo"),
    ("substring(s, 2, n)", {"s": "foobar", "n": 2}, "oo"),
    ("x = null", {"x": None}, True),
    ("x != null", {"x": 0}, True),
    ("null = x", {"x": 1}, False),
    ("x = true", {"x": 1}, False),
    ('"a" + "b"', {}, "ab"),
    ("[1, 2] = [1, 2]", {}, True),
    ("[]", {}, []),
    ('{a: 1, "b c": x}', {"x": 2}, {"a": 1, "b c": 2}),
    ("{a: 1, b: {c: 2}}.b.c", {}, 2),
    ("l[1]", {"l": ["a", "b", "c"]}, "a"),
    ("l[-1]", {"l": ["a", "b", "c"]}, "c"),
    ("l[i]", {"l": ["a", "b", "c"], "i": 2}, "b"),
    ("l[i]", {"l": ["a", "b", "c"], "i": -2}, "b"),
    ("l[1].name", {"l": [{"name": "n"}]}, "n"),
    ("a.b.c", {"a": {"b": {"c": 7}}}, 7),
    ("modulo(-7, 2)", {}, 1),
    ("modulo(7, -2)", {}, -1),
    ("abs(-3)", {}, 3),
    ("floor(2.5) + ceiling(2.1)", {}, 5),
    ('string join(risks, ", ")', {"risks": ["high", "fraud"]}, "high, fraud"),
    ("string join(risks)", {"risks": ["a", "b"]}, "ab"),
    ('"case " + string(n)', {"n": 7}, "case 7"),
    ("1 / 4", {}, 0.25),
    ("10 - 2 - 3", {}, 5),
    ("(1 + 2) * 3", {}, 9),
    ('"line\\nbreak \\"q\\" \\u00e9 \\ud83d\\ude00"', {}, 'line\nbreak "q" é 😀'),
    ("not(x in [1..3])", {"x": 5}, True),
    ("مبلغ > 10", {"مبلغ": 11}, True),
    ("   x   >   1   ", {"x": 2}, True),
    # precedence
    ("not(a) or b", {"a": True, "b": False}, False),
    ("a or b and c", {"a": True, "b": False, "c": False}, True),
    ("a = b and c", {"a": False, "b": False, "c": False}, False),
    ("-2 ** 2", {}, 4),
    ("-x ** 2", {"x": 3}, 9),
    ("2 ** 3 ** 2", {}, 64),
    ("2 * 3 ** 2", {}, 18),
    ("1 + 2 * 3 = 7", {}, True),
    ("-a.b", {"a": {"b": 3}}, -3),
    # iteration and quantifiers
    ('some risk in risks satisfies risk = "red"', {"risks": ["yellow", "red"]}, True),
    ('every risk in risks satisfies risk = "yellow"', {"risks": ["yellow", "red"]}, False),
    ("every x in [] satisfies x > 1", {}, True),
    ("some a in l, b in m satisfies a + b = 5", {"l": [1, 2], "m": [3, 9]}, True),
    ("some x in l satisfies x > limit", {"l": [1, 5], "limit": 4, "x": 100}, True),
    ("for x in l return x * 2", {"l": [1, 2]}, [2, 4]),
    ("count(for x in l return x) = 2", {"l": ["a", "b"]}, True),
    ("string length(string(today())) = 10", {}, True),
]


@pytest.mark.parametrize(("feel", "data", "expected"), VALUES)
def test_translation_gives_feel_value(sandbox: SandboxedEnvironment, feel: str, data: dict[str, Any],
                                      expected: Any) -> None:
    python = feel_to_python(feel)
    assert same(sandbox.evaluate(python, data), expected), python


# What an analyst reads in the compatibility report.
READABLE = [
    ("amount > 1000", "amount > 1000"),
    ("x in [1..10]", "1 <= x <= 10"),
    ("x in (1..10]", "1 < x <= 10"),
    ('x in ["a", "b"]', "x in ['a', 'b']"),
    ("x in (a, b)", "x in (a, b)"),
    ("x = null", "x is None"),
    ("x between 1 and 10", "1 <= x <= 10"),
    ("a.b.c", "a['b']['c']"),
    ("l[1]", "l[0]"),
    ('substring(s, 2, 3)', "s[1:4]"),
    ("list contains(l, x)", "x in l"),
    ("count(l)", "len(l)"),
    ("if ok then 1 else 2", "1 if ok else 2"),
    ("-2 ** 2", "(-2) ** 2"),
    ("a = b and c", "a == b and c"),
    ('some r in risks satisfies r = "red"', "any((r == 'red' for r in risks))"),
    ("string(now())", "datetime.now(timezone.utc).isoformat().replace('+00:00', 'Z')"),
]


@pytest.mark.parametrize(("feel", "python"), READABLE)
def test_translation_is_readable(feel: str, python: str) -> None:
    assert feel_to_python(feel) == python


# (FEEL text, part of the reason, offset of the cause)
REFUSALS = [
    ("=x > 1", "without its leading '='", 0),
    ("is defined(x)", "needs the variable context", 0),
    ("for i in [1..3] return i", "ranges are only supported after 'in' in a test", 9),
    ("some x in l then x", "expected 'satisfies' after the iteration", 12),
    ("every in l satisfies true", "unexpected 'in'", 6),
    ('x < date("2020-01-01")', "date and time functions are not supported", 4),
    ('date and time("2020-01-01T00:00:00")', "date and time functions are not supported", 0),
    ('@"2020-01-01"', "temporal literals", 0),
    ("l[item > 3]", "filters with conditions", 2),
    ("x instance of number", "'instance of' is not supported", 2),
    ("x in y", "for a list variable use list contains", 5),
    ("x in (y > 3)", "tests that are conditions", 5),
    ("a < b < c", "comparisons cannot be chained", 6),
    ("a % 2", "FEEL has no '%' operator", 2),
    ("[1..10]", "ranges are only supported after 'in'", 2),
    ("< 10", "only supported after 'in'", 0),
    ("first name = 1", "variable names with spaces", 0),
    ("foo(1)", "function 'foo()' is not supported", 0),
    ("string replace(s, \"a\", \"b\")", "function 'string replace()' is not supported", 0),
    ('matches(code, "(a+)+$")', "regular expressions are not supported", 0),
    ('x and replace(s, "a+", "b") = ""', "regular expressions are not supported", 6),
    ('count(split(s, ",")) > 1', "regular expressions are not supported", 6),
    ("substring(string: s, start position: 1)", "named arguments are not supported", 10),
    ("{a: 1, b: a + 1}", "uses an earlier entry ('a')", 7),
    ("l[0]", "FEEL positions start at 1", 2),
    ("substring(s, 0)", "FEEL positions start at 1", 0),
    ('l["a"]', "whole-number position", 2),
    ("count(l, 1)", "count() takes 1 argument(s), not 2", 0),
    ("1 + if a then 1 else 2", "must be in parentheses", 4),
    ("x // note", "comments are not supported", 2),
    ('"abc', "string is not closed", 0),
    ('"a\\q"', "unknown escape sequence", 2),
    ('"\\ud83d"', "unpaired surrogate", 1),
    ("", "expected a value", 0),
    ("a.b(1)", "calling a function through a path", 2),
    ("not x", "write not(x)", 0),
    ("? > 1", "input value of unary tests", 0),
    ("`a b` > 1", "backticks", 0),
    ("x in [1..10", "expected ']' or ')' to end the range", 11),
    ("1e3", "a number is directly followed by letters", 1),
    ("function(x) x + 1", "function definitions are not supported", 0),
    ("x + ", "expected a value, found the end of the expression", 4),
    ("if x then 1", "expected 'else'", 11),
    ("_x > 1", "starting with '_'", 0),
    ("lambda > 1", "reserved word", 0),
]


@pytest.mark.parametrize(("feel", "reason", "offset"), REFUSALS)
def test_outside_the_subset_is_refused_with_position(feel: str, reason: str, offset: int) -> None:
    with pytest.raises(Untranslatable) as caught:
        feel_to_python(feel)
    assert reason in caught.value.reason
    assert caught.value.offset == offset
    assert caught.value.text == feel
    assert str(caught.value) == f"{caught.value.reason} at column {offset + 1}: {feel}"


def test_is_feel() -> None:
    assert is_feel("=a > 1") and is_feel("  = a")
    assert not is_feel("a > 1") and not is_feel("${a}") and not is_feel("a = 1")


# --- property: random expressions, printed with FEEL's precedence, mean the same in Python ----

# Binding strength of FEEL operators (Camunda's FEEL engine), higher binds tighter.
_BINARY = {"or": 1, "and": 2, "=": 3, "<": 3, "+": 4, "-": 4, "*": 5, "**": 6}
_NEGATION = 7  # tighter than **: -2 ** 2 is (-2) ** 2
_COMPARISON = 3


def _number(rng: random.Random, depth: int) -> tuple[str, int, int]:
    """(FEEL text, its precedence, its value) of a random integer expression."""
    choice = rng.randrange(6) if depth else 0
    if choice == 0:
        value = rng.randrange(10)
        return str(value), 9, value
    if choice == 1:
        text, prec, value = _number(rng, depth - 1)
        return f"-{_wrap(text, prec, _NEGATION)}", _NEGATION, -value
    if choice == 5:
        base, exponent = _number(rng, depth - 1), rng.randrange(3)
        return _binary("**", base[:2], (str(exponent), 9)), _BINARY["**"], base[2] ** exponent
    op = "+-*"[choice - 2]
    left, right = _number(rng, depth - 1), _number(rng, depth - 1)
    result = {"+": left[2] + right[2], "-": left[2] - right[2], "*": left[2] * right[2]}[op]
    return _binary(op, left[:2], right[:2]), _BINARY[op], result


def _boolean(rng: random.Random, depth: int) -> tuple[str, int, bool]:
    """(FEEL text, its precedence, its value) of a random boolean expression."""
    choice = rng.randrange(6) if depth else 0
    if choice == 0:
        value = rng.random() < 0.5
        return str(value).lower(), 9, value
    if choice == 1:
        text, _, value = _boolean(rng, depth - 1)
        return f"not({text})", 9, not value
    if choice in (2, 3):
        op = "and" if choice == 2 else "or"
        left, right = _boolean(rng, depth - 1), _boolean(rng, depth - 1)
        value = left[2] and right[2] if op == "and" else left[2] or right[2]
        return _binary(op, left[:2], right[:2]), _BINARY[op], value
    op = "<" if choice == 4 else "="
    a, b = _number(rng, depth - 1), _number(rng, depth - 1)
    return _binary(op, a[:2], b[:2]), _BINARY[op], a[2] < b[2] if op == "<" else a[2] == b[2]


def _wrap(text: str, prec: int, needed: int) -> str:
    return f"({text})" if prec < needed else text


def _binary(op: str, left: tuple[str, int], right: tuple[str, int]) -> str:
    # Left-associative (** too); comparisons do not chain, so both sides need parentheses.
    prec = _BINARY[op]
    left_needs = prec + 1 if prec == _COMPARISON else prec
    return f"{_wrap(left[0], left[1], left_needs)} {op} {_wrap(right[0], right[1], prec + 1)}"


def test_random_expressions_keep_feel_precedence(sandbox: SandboxedEnvironment) -> None:
    rng = random.Random(20240501)
    for _ in range(300):
        text, _, expected = _boolean(rng, 4) if rng.random() < 0.6 else _number(rng, 4)
        python = feel_to_python(text)
        check_source(python, "eval")
        assert same(sandbox.evaluate(python, {}), expected), (text, python)


def test_every_translation_passes_the_sandbox_check() -> None:
    texts = [feel for feel, _, _ in VALUES] + [feel for feel, _ in READABLE]
    for feel in texts:
        check_source(feel_to_python(feel), "eval")


def test_deep_nesting_is_refused_not_crashed() -> None:
    for text in ["(" * 3000 + "1" + ")" * 3000, "+".join(["1"] * 5000), "-" * 5000 + "1"]:
        with pytest.raises(Untranslatable) as caught:
            feel_to_python(text)
        assert caught.value.reason == "expression is nested too deeply"
        # The message quotes the start of the text and its length, not thousands of characters.
        assert str(caught.value) == f"expression is nested too deeply: {text[:120]}… ({len(text):,} characters)"
