"""Pieces shared by the JUEL and FEEL translators: the refusal error, a lexer and a token stream.

Both translators parse by recursive descent into Python's own `ast` nodes and print them with
`ast.unparse`, which puts parentheses exactly where precedence needs them; no translation ever
works on the text with substitutions. The printed source is checked against the sandbox
before it is returned, so a translation that the engine would refuse never leaves here.
"""

from __future__ import annotations

import ast
import keyword
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import ClassVar, Literal, NoReturn

from engine.core.report import shown
from engine.core.sandbox import SandboxViolation, check_source

TokenKind = Literal["name", "number", "string", "op", "end"]
# A set, not a string: "" is "in" every string, and slicing past the end yields "".
_DIGITS = frozenset("0123456789")


# Translating is Python-speed work per character (about 30 us), so its input is bounded: one
# expression, and all the expressions of one deployment together. Real models stay far below
# both (a large Camunda 8 model holds a few hundred expressions of tens of characters).
MAX_EXPRESSION_CHARS = 10_000
MAX_TRANSLATED_CHARS = 500_000
_left_to_translate: ContextVar[list[int] | None] = ContextVar("left_to_translate", default=None)


@contextmanager
def translation_budget(chars: int = MAX_TRANSLATED_CHARS) -> Iterator[None]:
    """Within this block, the expressions translated may hold `chars` characters together."""
    token = _left_to_translate.set([chars])
    try:
        yield
    finally:
        _left_to_translate.reset(token)


def charge(text: str) -> None:
    """Count `text` against the limits before translating it.

    Raises:
        Untranslatable: the expression, or the expressions so far together, are too long.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise Untranslatable(f"the expression is {len(text):,} characters long, over the limit of "
                             f"{MAX_EXPRESSION_CHARS:,}", text)
    left = _left_to_translate.get()
    if left is not None:
        left[0] -= len(text)
        if left[0] < 0:
            raise Untranslatable(f"the expressions of these files are more than {MAX_TRANSLATED_CHARS:,} "
                                 "characters together, over the limit", text)


class Untranslatable(ValueError):
    """Text outside the supported subset; never guessed."""

    def __init__(self, reason: str, text: str, offset: int | None = None) -> None:
        self.reason = reason
        self.text = text
        self.offset = offset
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" at column {self.offset + 1}" if self.offset is not None else ""
        return f"{self.reason}{where}: {shown(self.text)}"


@dataclass(frozen=True)
class Token:
    """One lexeme; `offset` is its 0-based index into the whole text being translated."""

    kind: TokenKind
    text: str
    offset: int
    value: str | int | float | None = None


@dataclass(frozen=True)
class Dialect:
    """What a language's lexer accepts."""

    operators: tuple[str, ...]
    quotes: str
    escapes: Mapping[str, str]
    unicode_escapes: bool = False
    exponents: bool = False
    name_chars: str = "_"
    ordered: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Longest first, so "<=" is never read as "<" followed by "=".
        object.__setattr__(self, "ordered", tuple(sorted(self.operators, key=len, reverse=True)))


class Lexer:
    """Reads tokens on demand from `start`; after a `stop` operator it reads nothing more.

    Reading on demand matters for JUEL templates: the text after the closing ``}`` is
    literal prose, which the lexer must never see (an apostrophe there is not a string).
    """

    def __init__(self, text: str, dialect: Dialect, start: int = 0, stop: str | None = None) -> None:
        self.text = text
        self.dialect = dialect
        self.pos = start
        self.stop = stop
        self._stopped = False

    def fail(self, reason: str, offset: int) -> NoReturn:
        raise Untranslatable(reason, self.text, offset)

    def next(self) -> Token:
        """The next token, or an "end" token at the end of the text (or after `stop`)."""
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        start = self.pos
        if self._stopped or start >= len(text):
            return Token("end", "", start)
        char = text[start]
        if char in _DIGITS or (char == "." and text[start + 1:start + 2] in _DIGITS):
            return self._number(start)
        if char in self.dialect.quotes:
            return self._string(start)
        if char.isalpha() or char in self.dialect.name_chars:
            end = start + 1
            while end < len(text) and (text[end].isalnum() or text[end] in self.dialect.name_chars):
                end += 1
            self.pos = end
            return Token("name", text[start:end], start)
        for operator in self.dialect.ordered:
            if text.startswith(operator, start):
                self.pos = start + len(operator)
                self._stopped = operator == self.stop
                return Token("op", operator, start)
        self.fail(f"unexpected character {char!r}", start)

    def _digits(self, at: int) -> int:
        while at < len(self.text) and self.text[at] in _DIGITS:
            at += 1
        return at

    def _number(self, start: int) -> Token:
        text = self.text
        end = self._digits(start)
        exact = True
        if text[end:end + 1] == "." and text[end + 1:end + 2] in _DIGITS:
            end, exact = self._digits(end + 1), False
        if self.dialect.exponents and text[end:end + 1] in ("e", "E"):
            mark = end + 1 + (text[end + 1:end + 2] in ("+", "-"))
            if text[mark:mark + 1] in _DIGITS:
                end, exact = self._digits(mark), False
        if end < len(text) and (text[end].isalnum() or text[end] in self.dialect.name_chars):
            self.fail("a number is directly followed by letters", end)
        spelling = text[start:end]
        try:
            value: int | float = int(spelling) if exact else float(spelling)
        except ValueError:
            self.fail("number has too many digits", start)
        if value in (float("inf"), float("-inf")):
            self.fail("number is too large", start)
        self.pos = end
        return Token("number", spelling, start, value)

    def _string(self, start: int) -> Token:
        text, quote = self.text, self.text[start]
        chars: list[str] = []
        at = start + 1
        while at < len(text) and text[at] != quote:
            if text[at] != "\\":
                chars.append(text[at])
                at += 1
                continue
            escaped = text[at + 1:at + 2]
            if escaped in self.dialect.escapes:
                chars.append(self.dialect.escapes[escaped])
                at += 2
            elif escaped == "u" and self.dialect.unicode_escapes:
                at = self._unicode(at, chars)
            else:
                self.fail(f"unknown escape sequence '\\{escaped}' in a string", at)
        if at >= len(text):
            self.fail("string is not closed", start)
        self.pos = at + 1
        return Token("string", text[start:at + 1], start, "".join(chars))

    def _unicode(self, at: int, chars: list[str]) -> int:
        def code(position: int) -> int | None:
            digits = self.text[position + 2:position + 6]
            if self.text[position:position + 2] != "\\u" or len(digits) != 4:
                return None
            try:
                return int(digits, 16)
            except ValueError:
                return None

        first = code(at)
        if first is None:
            self.fail("'\\u' must be followed by four hex digits", at)
        if 0xD800 <= first < 0xDC00:
            second = code(at + 6)
            if second is None or not 0xDC00 <= second < 0xE000:
                self.fail("unpaired surrogate in a '\\u' escape", at)
            chars.append(chr(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)))
            return at + 12
        if 0xDC00 <= first < 0xE000:
            self.fail("unpaired surrogate in a '\\u' escape", at)
        chars.append(chr(first))
        return at + 6


class TokenStream:
    """Lookahead over a `Lexer`, with the checks every parser needs."""

    def __init__(self, lexer: Lexer) -> None:
        self.text = lexer.text
        self._lexer = lexer
        self._ahead: list[Token] = []

    def peek(self, k: int = 0) -> Token:
        while len(self._ahead) <= k:
            self._ahead.append(self._lexer.next())
        return self._ahead[k]

    def take(self) -> Token:
        token = self.peek()
        self._ahead.pop(0)
        return token

    def is_op(self, *spellings: str, k: int = 0) -> bool:
        token = self.peek(k)
        return token.kind == "op" and token.text in spellings

    def is_word(self, *words: str, k: int = 0) -> bool:
        token = self.peek(k)
        return token.kind == "name" and token.text in words

    def fail(self, reason: str, at: Token | int | None) -> NoReturn:
        offset = at.offset if isinstance(at, Token) else at
        raise Untranslatable(reason, self.text, offset)

    def expect(self, spelling: str, context: str) -> Token:
        """Take the operator or word `spelling`, or refuse naming what was found instead."""
        token = self.peek()
        if token.text == spelling and token.kind in ("op", "name"):
            return self.take()
        self.fail(f"expected '{spelling}' {context}, found {_found(token)}", token)


def _found(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else f"'{token.text}'"


class DescentParser:
    """What the FEEL and JUEL parsers share: their tokens, and how a token out of place is
    refused (with the language's own reason when it is a construct known to be unsupported)."""

    refused: ClassVar[Mapping[str, str]] = {}

    def __init__(self, tokens: TokenStream) -> None:
        self.tokens = tokens

    def unexpected(self, token: Token, wanted: str = "") -> NoReturn:
        if token.text in self.refused and token.kind in ("op", "name"):
            self.tokens.fail(self.refused[token.text], token)
        found = _found(token)
        self.tokens.fail(f"expected {wanted}, found {found}" if wanted else f"unexpected {found}", token)


def variable(token: Token, text: str) -> ast.Name:
    """A plain Python name for a variable, refused when Python or the sandbox would misread it."""
    name = token.text
    reason = None
    if not name.isidentifier():
        reason = f"variable name '{name}' is not a plain identifier"
    elif keyword.iskeyword(name):
        reason = f"variable name '{name}' is a reserved word in the engine's expressions"
    elif name.startswith("_"):
        reason = f"variable names starting with '_' are not supported: '{name}'"
    elif unicodedata.normalize("NFKC", name) != name:
        # Python folds identifiers to NFKC, so the task data key would never be found.
        reason = f"variable name '{name}' changes under Unicode normalization"
    if reason:
        raise Untranslatable(reason, text, token.offset)
    return ast.Name(name, ast.Load())


def const(value: str | int | float | bool | None) -> ast.expr:
    return ast.Constant(value)


def call(function: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(function, ast.Load()), list(args), [])


def method(target: ast.expr, name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Attribute(target, name, ast.Load()), list(args), [])


def item(target: ast.expr, key: ast.expr) -> ast.expr:
    return ast.Subscript(target, key, ast.Load())


def compare(left: ast.expr, op: ast.cmpop, right: ast.expr) -> ast.expr:
    return ast.Compare(left, [op], [right])


def _singleton(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, bool))


def equality(left: ast.expr, right: ast.expr, negate: bool) -> ast.expr:
    """``left == right``, written ``x is None`` / ``x is True`` when one side is null or a boolean.

    ``is`` for booleans because Python has ``1 == True``, which neither JUEL nor FEEL has.
    """
    if _singleton(right) or _singleton(left):
        subject, other = (left, right) if _singleton(right) else (right, left)
        return compare(subject, ast.IsNot() if negate else ast.Is(), other)
    return compare(left, ast.NotEq() if negate else ast.Eq(), right)


def join(op: ast.boolop, values: list[ast.expr]) -> ast.expr:
    return values[0] if len(values) == 1 else ast.BoolOp(op, values)


def emit(node: ast.expr, text: str) -> str:
    """Python source for `node`, refused if the sandbox would not accept it."""
    try:
        source = ast.unparse(node)
    except RecursionError:
        raise Untranslatable("expression is nested too deeply", text) from None
    try:
        check_source(source, "eval")
    except (SyntaxError, SandboxViolation) as err:
        raise Untranslatable(f"the translation is not allowed by the sandbox ({err})", text) from None
    return source
