"""The small part of FEEL that Camunda Forms conditions are written in, translated into condition objects.

Understood (anything else is refused, so a condition is never silently ignored)::

    =field = "text"     =field != 3     =amount > 100     (also <, <=, >=; the literal may come first)
    =flag               =not(flag)      =not(a = "x")     =a and b or not(c)      =(a or b) and c
    =field = null       =field = true   =applicant.age >= 18

Literals are strings in double quotes, numbers, ``true``, ``false`` and ``null``; names are form keys
(dotted for nested ones). ``and`` binds tighter than ``or``, as in FEEL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from forms.model import Condition
from forms.normalize import NumberOutOfRange, bounded_number

# Possessive throughout, so no token is ever matched twice: a string that is never closed is
# one token to the end (refused by the parser), and a run of digits followed by a letter is
# one `other` token, not a failed number retried from each digit.
_TOKEN = re.compile(r"""
    \s*+(?:
      (?P<string>"(?:[^"\\]++|\\.)*+(?P<closed>")?+)
    | (?P<number>-?[0-9]++(?:\.[0-9]++)?+(?![\w.]))
    | (?P<op><=|>=|!=|=|<|>)
    | (?P<paren>[()])
    | (?P<name>[^\W\d]\w*+(?:\.[^\W\d]\w*+)*+)
    | (?P<other>[\w.]++|\S)
    )""", re.VERBOSE | re.DOTALL)
# How deep parentheses and not() may nest; the parser recurses once per level.
MAX_NESTING = 32
# A hide condition is a line or two; a longer one is refused at deploy, before it is stored with
# every task of its form (forms/conditions.py bounds evaluating what is accepted).
MAX_LENGTH = 4000
_FLIPPED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_OPS = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_KEYWORDS = {"true": True, "false": False, "null": None}
_NOT_SUPPORTED = {"in", "between", "instance", "is", "some", "every", "for", "if", "then", "else", "function",
                  "this", "parent", "_this_", "_parent_"}


class FeelError(ValueError):
    """The expression is not in the subset above; the message says what was not understood."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


@dataclass(frozen=True)
class _Literal:
    value: Any


def _tokens(expression: str) -> Iterator[_Token]:
    """The tokens of `expression`, each read once, as the parser asks for them: it stops at the
    first thing it does not understand, and nothing after it is read."""
    position, end = 0, len(expression.rstrip())
    while position < end:
        match = _TOKEN.match(expression, position)
        assert match is not None and match.lastgroup is not None  # "other" matches any visible character
        kind = "open string" if match.lastgroup == "string" and match.group("closed") is None else match.lastgroup
        yield _Token(kind, match.group(match.lastgroup))
        position = match.end()


class _Parser:
    def __init__(self, expression: str) -> None:
        self.tokens = _tokens(expression)
        self.next: _Token | None = next(self.tokens, None)
        self.depth = 0

    def nested(self) -> Condition:
        """A disjunction inside parentheses or not(), at most `MAX_NESTING` deep."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FeelError(f"parentheses and not() nest more than {MAX_NESTING} deep")
        inner = self.disjunction()
        self.depth -= 1
        return inner

    def peek(self) -> _Token | None:
        return self.next

    def take(self) -> _Token:
        token = self.next
        if token is None:
            raise FeelError("the expression ends too early")
        self.next = next(self.tokens, None)
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise FeelError(f"expected '{text}', found '{token.text[:40]}'")

    def disjunction(self) -> Condition:
        parts = [self.conjunction()]
        while (token := self.peek()) is not None and token.text == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else {"any": parts}

    def conjunction(self) -> Condition:
        parts = [self.comparison()]
        while (token := self.peek()) is not None and token.text == "and":
            self.take()
            parts.append(self.comparison())
        return parts[0] if len(parts) == 1 else {"all": parts}

    def comparison(self) -> Condition:
        left = self.operand()
        token = self.peek()
        if token is None or token.kind != "op":
            if isinstance(left, _Literal):
                raise FeelError("a condition needs a field to test, not only a literal")
            return left
        op = _OPS[self.take().text]
        right = self.operand()
        if isinstance(left, dict) and isinstance(right, _Literal) and left.get("op") == "true":
            return {"field": left["field"], "op": op, "value": right.value}
        if isinstance(left, _Literal) and isinstance(right, dict) and right.get("op") == "true":
            return {"field": right["field"], "op": _FLIPPED[op], "value": left.value}
        raise FeelError("a comparison must be between one field and one literal value")

    def operand(self) -> Condition | _Literal:
        token = self.take()
        if token.kind == "string":
            return _Literal(re.sub(r"\\(.)", r"\1", token.text[1:-1], flags=re.DOTALL))
        if token.kind == "open string":
            raise FeelError("a string is never closed")
        if token.kind == "number":
            try:
                return _Literal(bounded_number(token.text))
            except NumberOutOfRange as err:
                raise FeelError(str(err)) from err
        if token.text == "(":
            inner = self.nested()
            self.expect(")")
            return inner
        if token.kind != "name":
            raise FeelError(f"unexpected '{token.text[:40]}'")
        if token.text in _KEYWORDS:
            return _Literal(_KEYWORDS[token.text])
        if token.text == "not":
            self.expect("(")
            inner = self.nested()
            self.expect(")")
            return {"not": inner}
        if token.text.split(".")[0] in _NOT_SUPPORTED or token.text in ("and", "or"):
            raise FeelError(f"'{token.text}' is not supported")
        following = self.peek()
        if following is not None and following.text == "(":
            raise FeelError(f"function '{token.text}()' is not supported; only not() is")
        return {"field": token.text, "op": "true"}


def shown(expression: object) -> str:
    """An expression as a message quotes it: its start only, when it is long."""
    text = str(expression)
    return repr(text if len(text) <= 80 else text[:80] + "…")


def translate(expression: str) -> Condition:
    """The condition object of a Camunda Forms ``=...`` expression.

    Raises:
        FeelError: the expression is outside the subset this module understands.
    """
    body = expression.strip()
    if len(body) > MAX_LENGTH:
        raise FeelError(f"the expression is {len(body):,} characters long; at most {MAX_LENGTH:,}")
    if not body.startswith("="):
        raise FeelError("a condition must be a FEEL expression starting with '='")
    parser = _Parser(body[1:])
    if parser.peek() is None:
        raise FeelError("the expression is empty")
    condition = parser.disjunction()
    leftover = parser.peek()
    if leftover is not None:
        raise FeelError(f"unexpected '{leftover.text[:40]}'")
    return condition
