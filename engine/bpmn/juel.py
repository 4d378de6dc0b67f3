"""Translation of JUEL (the expression language of Camunda 7 models) into sandboxed Python.

The whole attribute text is translated: a single ``${...}`` or ``#{...}`` becomes the Python
expression; text mixing prose and ``${...}`` parts is a template and becomes a concatenation
with ``str()`` of each part; text with no ``${`` is a Python string literal. ``\\${`` in a
template is a literal ``${``.

Supported subset, with examples (JUEL -> Python):

- literals: ``42``, ``1.5e3``, ``'it\\'s'``, ``"a"``, ``true``, ``false``, ``null`` -> ``None``
- variables and paths: ``a.b.c`` -> ``a['b']['c']``, ``a[0]``, ``a['k']``
- comparisons: ``==``/``eq``, ``!=``/``ne``, ``<``/``lt``, ``>``/``gt``, ``<=``/``le``,
  ``>=``/``ge``; ``x == null`` -> ``x is None``
- logic: ``&&``/``and``, ``||``/``or``, ``!``/``not``; ``a ? b : c`` -> ``b if a else c``
- arithmetic: ``+ - * / %``, ``div``, ``mod``, unary minus; JUEL has no ``**``
- ``empty x`` -> ``x in (None, '', [], {})`` (null, empty text, list or map; ``0`` and
  ``false`` are not empty, as in JUEL)
- methods: ``x.size()``/``x.length()`` -> ``len(x)``, ``x.isEmpty()`` -> ``len(x) == 0``,
  ``s.contains(y)`` -> ``y in s``, ``s.startsWith(y)``, ``s.endsWith(y)``, ``s.equals(y)``
  -> ``s == y``, ``s.equalsIgnoreCase(y)`` -> ``s.lower() == y.lower()``, ``toUpperCase()``,
  ``toLowerCase()``, ``trim()`` -> ``strip()``
- ``execution.getVariable("x")`` and ``task.getVariable("x")`` -> ``x``
- templates: ``Dear ${name}!`` -> ``'Dear ' + str(name) + '!'``

Refused (`Untranslatable`, with the column): other method calls and functions (beans such as
``${myService.check(x)}``, ``now()``), any other use of ``execution`` or ``task``, ``**``,
assignment, ``;``, lambdas, ``+=``, list/map literals and ``instanceof`` (EL 3.0), ``+`` with a
text literal (JUEL ``+`` only adds numbers), and mixing ``${`` with ``#{``.

Where Python differs and the translation does not hide it: JUEL coerces types (``"1" == 1``
is true, ``"2" + 1`` is 3), Python does not; a missing map key is null in JUEL but raises in
Python; ``%`` of negative numbers follows Python (``-7 % 2`` is 1, JUEL gives -1); division
by zero raises instead of giving Infinity; ``str()`` in templates writes ``None``/``True``
where JUEL writes an empty string/``true``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from engine.bpmn.expression_syntax import (
    DescentParser,
    Dialect,
    Lexer,
    Token,
    TokenStream,
    Untranslatable,
    call,
    charge,
    compare,
    const,
    emit,
    equality,
    item,
    join,
    method,
    variable,
)

_DIALECT = Dialect(
    operators=("==", "!=", "<=", ">=", "&&", "||", "->", "+=", "**", "<", ">", "!", "?", ":", "+", "-",
               "*", "/", "%", "(", ")", "[", "]", ".", ",", "=", ";", "{", "}"),
    quotes="'\"",
    escapes={"\\": "\\", "'": "'", '"': '"'},
    exponents=True,
)
_KEYWORDS = frozenset({"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "true", "false", "null",
                       "empty", "div", "mod", "instanceof"})
_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}
_EQUALITY = {"==": False, "eq": False, "!=": True, "ne": True}
_ORDER: dict[str, Callable[[], ast.cmpop]] = {
    "<": ast.Lt, "lt": ast.Lt, ">": ast.Gt, "gt": ast.Gt, "<=": ast.LtE, "le": ast.LtE, ">=": ast.GtE, "ge": ast.GtE,
}
_PRODUCT: dict[str, Callable[[], ast.operator]] = {
    "*": ast.Mult, "/": ast.Div, "div": ast.Div, "%": ast.Mod, "mod": ast.Mod,
}
_REFUSED = {
    "=": "assignment is not supported",
    "+=": "'+=' (EL 3.0 text concatenation) is not supported; write a template like 'a ${b}'",
    "->": "lambda expressions are not supported",
    ";": "several expressions separated by ';' are not supported",
    "**": "JUEL has no '**' operator",
    "{": "map and set literals (EL 3.0) are not supported",
    "[": "list literals (EL 3.0) are not supported",
    "instanceof": "'instanceof' is not supported",
}
_EMPTY_VALUES = ast.Tuple([const(None), const(""), ast.List([], ast.Load()), ast.Dict([], [])], ast.Load())
_ENGINE_OBJECTS = ("execution", "task")

_Method = Callable[[ast.expr, list[ast.expr]], ast.expr]
# Java methods on values, by name: (number of arguments, translation).
_METHODS: dict[str, tuple[int, _Method]] = {
    "size": (0, lambda target, _: call("len", target)),
    "length": (0, lambda target, _: call("len", target)),
    "isEmpty": (0, lambda target, _: compare(call("len", target), ast.Eq(), const(0))),
    "contains": (1, lambda target, args: compare(args[0], ast.In(), target)),
    "startsWith": (1, lambda target, args: method(target, "startswith", args[0])),
    "endsWith": (1, lambda target, args: method(target, "endswith", args[0])),
    "equals": (1, lambda target, args: compare(target, ast.Eq(), args[0])),
    # lower(), not casefold(): Java compares letter by letter and never folds "ß" to "ss".
    "equalsIgnoreCase": (1, lambda target, args: compare(method(target, "lower"), ast.Eq(),
                                                          method(args[0], "lower"))),
    "toUpperCase": (0, lambda target, _: method(target, "upper")),
    "toLowerCase": (0, lambda target, _: method(target, "lower")),
    "trim": (0, lambda target, _: method(target, "strip")),
}


def is_juel(text: str) -> bool:
    """Whether `text` holds a JUEL expression (``${`` or ``#{``)."""
    return "${" in text or "#{" in text


def juel_to_python(text: str) -> str:
    """Python source for the JUEL attribute text `text` (expression, template or plain text).

    Raises:
        Untranslatable: text outside the supported subset; `offset` points at the cause.
    """
    charge(text)
    parts = _template_parts(text)
    expressions = [part for part in parts if not isinstance(part, str)]
    if len(expressions) == 1 and all(isinstance(part, ast.expr) or not part.strip() for part in parts):
        return emit(expressions[0], text)
    pieces = [const(part) if isinstance(part, str) else _as_text(part) for part in parts if part != ""]
    if not pieces:
        return emit(const(""), text)
    result = pieces[0]
    for piece in pieces[1:]:
        result = ast.BinOp(result, ast.Add(), piece)
    return emit(result, text)


def _as_text(node: ast.expr) -> ast.expr:
    return node if isinstance(node, ast.Constant) and isinstance(node.value, str) else call("str", node)


def _template_parts(text: str) -> list[str | ast.expr]:
    """Literal text and parsed ``${...}`` parts, in order."""
    parts: list[str | ast.expr] = []
    literal: list[str] = []
    marker = None
    at = 0
    while at < len(text):
        pair = text[at:at + 2]
        if text[at] == "\\" and text[at + 1:at + 3] in ("${", "#{"):
            literal.append(text[at + 1:at + 3])
            at += 3
        elif pair in ("${", "#{"):
            if marker is not None and marker != pair:
                raise Untranslatable("'${...}' and '#{...}' cannot be mixed in one text", text, at)
            marker = pair
            parts.append("".join(literal))
            literal = []
            node, at = _parse_part(text, at)
            parts.append(node)
        else:
            literal.append(text[at])
            at += 1
    parts.append("".join(literal))
    return parts


def _parse_part(text: str, start: int) -> tuple[ast.expr, int]:
    """The expression of the ``${...}`` at `start`, and the index after its ``}``."""
    parser = _Parser(TokenStream(Lexer(text, _DIALECT, start + 2, stop="}")))
    try:
        node = parser.expression()
    except RecursionError:
        raise Untranslatable("expression is nested too deeply", text, start) from None
    closing = parser.tokens.take()
    if closing.kind == "end":
        raise Untranslatable(f"'{text[start:start + 2]}' is not closed with '}}'", text, start)
    if not (closing.kind == "op" and closing.text == "}"):
        parser.unexpected(closing)
    return node, closing.offset + 1


class _Parser(DescentParser):
    """Recursive descent over one JUEL expression, lowest precedence first."""

    refused = _REFUSED

    def expression(self) -> ast.expr:
        condition = self._or()
        if not self.tokens.is_op("?"):
            return condition
        self.tokens.take()
        yes = self.expression()
        self.tokens.expect(":", "between the branches of '? :'")
        return ast.IfExp(condition, yes, self.expression())

    def _or(self) -> ast.expr:
        values = [self._and()]
        while self.tokens.is_op("||") or self.tokens.is_word("or"):
            self.tokens.take()
            values.append(self._and())
        return join(ast.Or(), values)

    def _and(self) -> ast.expr:
        values = [self._equality()]
        while self.tokens.is_op("&&") or self.tokens.is_word("and"):
            self.tokens.take()
            values.append(self._equality())
        return join(ast.And(), values)

    def _equality(self) -> ast.expr:
        left = self._order()
        while self.tokens.peek().text in _EQUALITY and self.tokens.peek().kind in ("op", "name"):
            negate = _EQUALITY[self.tokens.take().text]
            left = equality(left, self._order(), negate)
        return left

    def _order(self) -> ast.expr:
        left = self._sum()
        while self.tokens.peek().text in _ORDER and self.tokens.peek().kind in ("op", "name"):
            op = _ORDER[self.tokens.take().text]()
            left = compare(left, op, self._sum())
        return left

    def _sum(self) -> ast.expr:
        left = self._product()
        while self.tokens.is_op("+", "-"):
            token = self.tokens.take()
            right = self._product()
            if token.text == "+" and any(_is_text(side) for side in (left, right)):
                self.tokens.fail("JUEL '+' only adds numbers; join text with a template like 'a ${b}'", token)
            left = ast.BinOp(left, ast.Add() if token.text == "+" else ast.Sub(), right)
        return left

    def _product(self) -> ast.expr:
        left = self._unary()
        while self.tokens.peek().text in _PRODUCT and self.tokens.peek().kind in ("op", "name"):
            op = _PRODUCT[self.tokens.take().text]()
            left = ast.BinOp(left, op, self._unary())
        return left

    def _unary(self) -> ast.expr:
        tokens = self.tokens
        if tokens.is_op("-"):
            tokens.take()
            return ast.UnaryOp(ast.USub(), self._unary())
        if tokens.is_op("!") or tokens.is_word("not"):
            tokens.take()
            return ast.UnaryOp(ast.Not(), self._unary())
        if tokens.is_word("empty"):
            tokens.take()
            return compare(self._unary(), ast.In(), _EMPTY_VALUES)
        return self._value()

    def _value(self) -> ast.expr:
        tokens = self.tokens
        node = self._primary()
        while True:
            if tokens.is_op("["):
                tokens.take()
                key = self.expression()
                tokens.expect("]", "after an index")
                node = item(node, key)
            elif tokens.is_op("."):
                tokens.take()
                name = tokens.take()
                if name.kind != "name":
                    tokens.fail("expected a property name after '.'", name)
                node = self._call(node, name) if tokens.is_op("(") else item(node, const(name.text))
            else:
                return node

    def _call(self, target: ast.expr, name: Token) -> ast.expr:
        if name.text not in _METHODS:
            self.tokens.fail(f"method call '{name.text}()' is not supported", name)
        arity, translate = _METHODS[name.text]
        args = self._arguments()
        if len(args) != arity:
            self.tokens.fail(f"'{name.text}()' takes {arity} argument{'s' * (arity != 1)}, not {len(args)}", name)
        return translate(target, args)

    def _arguments(self) -> list[ast.expr]:
        self.tokens.expect("(", "before the arguments")
        args: list[ast.expr] = []
        while not self.tokens.is_op(")"):
            if args:
                self.tokens.expect(",", "between arguments")
            args.append(self.expression())
        self.tokens.take()
        return args

    def _primary(self) -> ast.expr:
        tokens = self.tokens
        token = tokens.take()
        if token.kind in ("number", "string"):
            return const(token.value)
        if token.kind == "op" and token.text == "(":
            node = self.expression()
            tokens.expect(")", "to close '('")
            return node
        if token.kind != "name" or token.text in _KEYWORDS - _LITERALS.keys():
            self.unexpected(token, "a value")
        if token.text in _LITERALS:
            return const(_LITERALS[token.text])
        if token.text in _ENGINE_OBJECTS:
            return self._engine_variable(token)
        if tokens.is_op("("):
            tokens.fail(f"function call '{token.text}()' is not supported", token)
        return variable(token, tokens.text)

    def _engine_variable(self, token: Token) -> ast.expr:
        """``execution.getVariable("x")`` is the variable ``x``; nothing else of the engine is there."""
        tokens = self.tokens
        if not (tokens.is_op(".") and tokens.is_word("getVariable", k=1) and tokens.is_op("(", k=2)):
            member = tokens.peek(1).text if tokens.is_op(".") else ""
            shown = f"{token.text}.{member}" if member else token.text
            tokens.fail(f"'{shown}' is not supported: the engine's {token.text} object is not available; "
                        f"only {token.text}.getVariable(\"name\") is", token)
        tokens.take()
        tokens.take()
        args = self._arguments()
        name = args[0] if len(args) == 1 else None
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            tokens.fail(f"{token.text}.getVariable() needs one quoted variable name", token)
        return variable(Token("name", name.value, token.offset), tokens.text)


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)
