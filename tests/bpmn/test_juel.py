"""JUEL translation: the Python it produces runs in the real sandbox and gives JUEL's answers."""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.bpmn.expression_syntax import Untranslatable
from engine.bpmn.juel import is_juel, juel_to_python
from engine.core.sandbox import SandboxedEnvironment, check_source


@pytest.fixture(scope="module")
def sandbox() -> SandboxedEnvironment:
    return SandboxedEnvironment()


def same(result: Any, expected: Any) -> bool:
    # 1 == True in Python; a boolean answer must be a boolean.
    return bool(result == expected and type(result) is type(expected))


# (JUEL text, task data, value JUEL gives)
VALUES: list[tuple[str, dict[str, Any], Any]] = [
    ("${amount > 1000}", {"amount": 1500}, True),
    ("${amount > 1000}", {"amount": 500}, False),
    ("${a.b.c}", {"a": {"b": {"c": 7}}}, 7),
    ("${a['k']}", {"a": {"k": "v"}}, "v"),
    ("${a[1]}", {"a": [10, 20]}, 20),
    ("${order.lines[0].qty * 2}", {"order": {"lines": [{"qty": 4}]}}, 8),
    ("${x eq 'yes'}", {"x": "yes"}, True),
    ("${x ne 3}", {"x": 3}, False),
    ("${x lt 2 and y ge 5}", {"x": 1, "y": 5}, True),
    ("${x gt 2 or y le 1}", {"x": 1, "y": 5}, False),
    ("${x <= 2 && y != 4}", {"x": 2, "y": 5}, True),
    ("${!approved}", {"approved": False}, True),
    ("${not approved}", {"approved": True}, False),
    ("${empty items}", {"items": []}, True),
    ("${empty name}", {"name": ""}, True),
    ("${empty name}", {"name": None}, True),
    ("${empty attrs}", {"attrs": {}}, True),
    ("${empty count}", {"count": 0}, False),
    ("${empty flag}", {"flag": False}, False),
    ("${empty name}", {"name": "x"}, False),
    ("${!empty items && items.size() > 1}", {"items": [1, 2]}, True),
    ("${score >= 50 ? 'pass' : 'fail'}", {"score": 49}, "fail"),
    ("${x > 1 ? 'a' : x > 0 ? 'b' : 'c'}", {"x": 0.5}, "b"),
    ("${7 div 2}", {}, 3.5),
    ("${7 / 2}", {}, 3.5),
    ("${7 mod 3}", {}, 1),
    ("${7 % 3 + 1}", {}, 2),
    ("${2 + 3 * 4}", {}, 14),
    ("${(2 + 3) * 4}", {}, 20),
    ("${10 - 2 - 3}", {}, 5),
    ("${1.5e2}", {}, 150.0),
    ("${.5 + 1}", {}, 1.5),
    ("${'it\\'s'}", {}, "it's"),
    ('${"say \\"hi\\" \\\\o/"}', {}, 'say "hi" \\o/'),
    ("${x == null}", {"x": None}, True),
    ("${x != null}", {"x": 0}, True),
    ("${x == true}", {"x": 1}, False),
    ("${s.length()}", {"s": "abc"}, 3),
    ("${l.size()}", {"l": [1, 2, 3]}, 3),
    ("${l.isEmpty()}", {"l": []}, True),
    ("${s.isEmpty()}", {"s": "a"}, False),
    ("${s.contains('b')}", {"s": "abc"}, True),
    ("${l.contains(2)}", {"l": [1, 2]}, True),
    ("${s.startsWith('ab')}", {"s": "abc"}, True),
    ("${s.endsWith('x')}", {"s": "abc"}, False),
    ("${s.equals('abc')}", {"s": "abc"}, True),
    ("${s.equalsIgnoreCase('ABC')}", {"s": "abc"}, True),
    ("${s.toUpperCase()}", {"s": "abc"}, "ABC"),
    ("${s.toLowerCase()}", {"s": "ABC"}, "abc"),
    ("${s.trim()}", {"s": "  a "}, "a"),
    ("${s.trim().toUpperCase().startsWith('A')}", {"s": " ab"}, True),
    ('${execution.getVariable("amount") > 10}', {"amount": 11}, True),
    ("${task.getVariable('x')}", {"x": 5}, 5),
    ("#{approved}", {"approved": True}, True),
    ("\n    ${amount > 5}\n  ", {"amount": 6}, True),
    ("${مبلغ > 10}", {"مبلغ": 11}, True),
    # templates
    ("Dear ${name}!", {"name": "Sara"}, "Dear Sara!"),
    ("${a}-${b}", {"a": 1, "b": 2}, "1-2"),
    ("Total: ${items.size()} items", {"items": [1, 2]}, "Total: 2 items"),
    ("#{a} and #{b}", {"a": "x", "b": "y"}, "x and y"),
    ("plain text", {}, "plain text"),
    ("it's 5$ {not} an expression", {}, "it's 5$ {not} an expression"),
    ("price: \\${x} is ${x}", {"x": 3}, "price: ${x} is 3"),
    ("", {}, ""),
    # precedence
    ("${!a && b}", {"a": False, "b": False}, False),
    ("${a || b && c}", {"a": True, "b": False, "c": False}, True),
    ("${a == b == c}", {"a": 1, "b": 2, "c": False}, True),
    ("${1 < 2 == true}", {}, True),
    ("${-2 * 3}", {}, -6),
    ("${-x.y}", {"x": {"y": 3}}, -3),
    ("${- 2 + 3}", {}, 1),
    ("${a and not b or c}", {"a": True, "b": True, "c": False}, False),
    ("${!a ? 1 : 2}", {"a": True}, 2),
    ("${empty a || b}", {"a": [1], "b": True}, True),
]


@pytest.mark.parametrize(("juel", "data", "expected"), VALUES)
def test_translation_gives_juel_value(sandbox: SandboxedEnvironment, juel: str, data: dict[str, Any],
                                      expected: Any) -> None:
    python = juel_to_python(juel)
    assert same(sandbox.evaluate(python, data), expected), python


# What an analyst reads in the compatibility report.
READABLE = [
    ("${amount > 1000}", "amount > 1000"),
    ("${a.b.c}", "a['b']['c']"),
    ("${x == null}", "x is None"),
    ("${x != null}", "x is not None"),
    ("${empty list}", "list in (None, '', [], {})"),
    ("${ok ? 'y' : 'n'}", "'y' if ok else 'n'"),
    ("${items.size()}", "len(items)"),
    ("${s.contains('a')}", "'a' in s"),
    ('${execution.getVariable("x")}', "x"),
    ("Dear ${name}!", "'Dear ' + str(name) + '!'"),
    ("${a == b == c}", "(a == b) == c"),
    ("${!a && b}", "not a and b"),
    ("${-(2 * 3)}", "-(2 * 3)"),
    ("text", "'text'"),
]


@pytest.mark.parametrize(("juel", "python"), READABLE)
def test_translation_is_readable(juel: str, python: str) -> None:
    assert juel_to_python(juel) == python


# (JUEL text, part of the reason, offset of the cause)
REFUSALS = [
    ("${2 ** 3}", "JUEL has no '**' operator", 4),
    ("${-2 ** 2}", "JUEL has no '**' operator", 5),
    ("${myService.check(x)}", "method call 'check()' is not supported", 12),
    ("${x.stream()}", "method call 'stream()' is not supported", 4),
    ("${now()}", "function call 'now()' is not supported", 2),
    ("${execution.id}", "'execution.id' is not supported", 2),
    ("${execution}", "'execution' is not supported", 2),
    ("${execution.getVariable(name)}", "one quoted variable name", 2),
    ("${a = 1}", "assignment is not supported", 4),
    ("${a; b}", "separated by ';'", 3),
    ("${x -> x + 1}", "lambda expressions are not supported", 4),
    ("${a += 'x'}", "'+='", 4),
    ("${[1, 2]}", "list literals (EL 3.0)", 2),
    ("${{'a': 1}}", "map and set literals", 2),
    ("${a instanceof B}", "'instanceof' is not supported", 4),
    ('${"a" + b}', "JUEL '+' only adds numbers", 6),
    ("${x", "is not closed with '}'", 0),
    ("Hi ${a} #{b}", "cannot be mixed", 8),
    ("${_secret}", "starting with '_'", 2),
    ("${class}", "reserved word", 2),
    ("${'a\\q'}", "unknown escape sequence", 4),
    ("${'abc}", "string is not closed", 2),
    ("${}", "expected a value, found '}'", 2),
    ("${a.}", "expected a property name after '.'", 4),
    ("${a ? b}", "expected ':'", 7),
    ("${s.size(1)}", "'size()' takes 0 arguments, not 1", 4),
    ("${x # y}", "unexpected character '#'", 4),
    ("${1abc}", "a number is directly followed by letters", 3),
    ("${a b}", "unexpected 'b'", 4),
]


@pytest.mark.parametrize(("juel", "reason", "offset"), REFUSALS)
def test_outside_the_subset_is_refused_with_position(juel: str, reason: str, offset: int) -> None:
    with pytest.raises(Untranslatable) as caught:
        juel_to_python(juel)
    assert reason in caught.value.reason
    assert caught.value.offset == offset
    assert caught.value.text == juel
    assert str(caught.value) == f"{caught.value.reason} at column {offset + 1}: {juel}"


def test_is_juel() -> None:
    assert is_juel("${a}") and is_juel("#{a}") and is_juel("Dear ${name}")
    assert not is_juel("a > 1") and not is_juel("=a > 1") and not is_juel("5$ {x}")


# --- property: random expressions, printed with JUEL's precedence, mean the same in Python ----

# Binding strength of JUEL operators (EL 2.2 spec), higher binds tighter.
_BINARY = {"||": 1, "&&": 2, "==": 3, "<": 4, "+": 5, "-": 5, "*": 6}
_UNARY = 7


def _number(rng: random.Random, depth: int) -> tuple[str, int, int]:
    """(JUEL text, its precedence, its value) of a random integer expression."""
    choice = rng.randrange(5) if depth else 0
    if choice == 0:
        value = rng.randrange(10)
        return str(value), 9, value
    if choice == 1:
        text, prec, value = _number(rng, depth - 1)
        return f"-{_wrap(text, prec, _UNARY)}", _UNARY, -value
    op = "+-*"[choice - 2]
    left, right = _number(rng, depth - 1), _number(rng, depth - 1)
    result = {"+": left[2] + right[2], "-": left[2] - right[2], "*": left[2] * right[2]}[op]
    return _binary(op, left[:2], right[:2]), _BINARY[op], result


def _boolean(rng: random.Random, depth: int) -> tuple[str, int, bool]:
    """(JUEL text, its precedence, its value) of a random boolean expression."""
    choice = rng.randrange(6) if depth else 0
    if choice == 0:
        value = rng.random() < 0.5
        return str(value).lower(), 9, value
    if choice == 1:
        text, prec, value = _boolean(rng, depth - 1)
        return f"!{_wrap(text, prec, _UNARY)}", _UNARY, not value
    if choice in (2, 3):
        op = "&&" if choice == 2 else "||"
        left, right = _boolean(rng, depth - 1), _boolean(rng, depth - 1)
        value = left[2] and right[2] if op == "&&" else left[2] or right[2]
        return _binary(op, left[:2], right[:2]), _BINARY[op], value
    op = "<" if choice == 4 else "=="
    a, b = _number(rng, depth - 1), _number(rng, depth - 1)
    return _binary(op, a[:2], b[:2]), _BINARY[op], a[2] < b[2] if op == "<" else a[2] == b[2]


def _wrap(text: str, prec: int, needed: int) -> str:
    return f"({text})" if prec < needed else text


def _binary(op: str, left: tuple[str, int], right: tuple[str, int]) -> str:
    # Left-associative: an equal-precedence right operand needs parentheses, a left one not.
    prec = _BINARY[op]
    return f"{_wrap(left[0], left[1], prec)} {op} {_wrap(right[0], right[1], prec + 1)}"


def test_random_expressions_keep_juel_precedence(sandbox: SandboxedEnvironment) -> None:
    rng = random.Random(20240501)
    for _ in range(300):
        text, _, expected = _boolean(rng, 4) if rng.random() < 0.6 else _number(rng, 4)
        python = juel_to_python("${" + text + "}")
        check_source(python, "eval")
        assert same(sandbox.evaluate(python, {}), expected), (text, python)


def test_every_translation_passes_the_sandbox_check() -> None:
    texts = [juel for juel, _, _ in VALUES] + [juel for juel, _ in READABLE]
    for juel in texts:
        check_source(juel_to_python(juel), "eval")


def test_deep_nesting_is_refused_not_crashed() -> None:
    # Both stay under the translator's length limit (MAX_EXPRESSION_CHARS), so the depth is what refuses them.
    for text in ["${" + "(" * 3000 + "1" + ")" * 3000 + "}", "${" + "+".join(["1"] * 4000) + "}"]:
        with pytest.raises(Untranslatable) as caught:
            juel_to_python(text)
        assert caught.value.reason == "expression is nested too deeply"
