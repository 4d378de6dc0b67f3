"""Translation of FEEL (the expression language of Camunda 8 models and DMN) into sandboxed Python.

Callers strip the leading ``=`` of a Camunda 8 expression and pass the rest. Precedence and
meaning follow Camunda's FEEL engine (DMN 1.3): comparisons bind tighter than ``and``/``or``
and do not chain, unary minus binds tighter than ``**``, ``**`` groups to the left, lists
and strings count from 1.

Supported subset, with examples (FEEL -> Python):

- literals: ``42``, ``1.5``, ``"a\\"b"`` (escapes ``\\" \\\\ \\n \\r \\t \\uXXXX``), ``true``,
  ``false``, ``null`` -> ``None``; lists ``[1, 2]``; contexts ``{a: 1, "b": 2}`` -> dicts
- variables and paths: ``a.b.c`` -> ``a['b']['c']``; filters ``l[1]`` -> ``l[0]``,
  ``l[-1]`` -> ``l[-1]``, ``l[i]`` -> ``l[i - 1 if i > 0 else i]``
- comparisons: ``=`` -> ``==``, ``!=``, ``< <= > >=``; ``x = null`` -> ``x is None``
- ``x between a and b`` -> ``a <= x <= b``
- ``x in [1..10]`` -> ``1 <= x <= 10``; ``(1..10]``, ``]1..10]``, ``[1..10)``, ``[1..10[``
  open an end; ``x in < 5`` -> ``x < 5``; ``x in [1, 2]`` -> ``x in [1, 2]``;
  ``x in ("a", "b")`` -> ``x in ('a', 'b')``; ``x in (1, [5..9])`` -> ``x == 1 or 5 <= x <= 9``
- logic: ``and``, ``or``, ``not(x)`` -> ``not x``; ``if c then a else b`` -> ``a if c else b``
- arithmetic: ``+ - * / **``, unary minus; ``+`` also joins text
- functions: ``list contains(l, x)`` -> ``x in l``, ``count(l)`` -> ``len(l)``, ``sum``,
  ``min``, ``max``, ``string length(s)`` -> ``len(s)``, ``upper case(s)`` -> ``s.upper()``,
  ``lower case(s)``, ``contains(s, t)`` -> ``t in s``, ``starts with(s, t)`` ->
  ``s.startswith(t)``, ``ends with(s, t)``, ``substring(s, 2)`` -> ``s[1:]``,
  ``substring(s, 2, 3)`` -> ``s[1:4]``, ``substring(s, -2)`` -> ``s[-2:]``,
  ``modulo(a, b)`` -> ``a % b``, ``abs``, ``floor``, ``ceiling`` -> ``ceil``,
  ``string join(l, ", ")`` -> ``', '.join(l)``, ``string(x)`` -> ``str(x)``, ``now()`` ->
  ``datetime.now(timezone.utc)`` (the engine keeps UTC), ``today()``, and ``string(now())``
  in ISO 8601 as FEEL writes it
- iteration: ``some x in l satisfies c`` -> ``any((c for x in l))``, ``every`` -> ``all``,
  several contexts ``some a in l, b in m satisfies c``; ``for x in l return e`` ->
  ``[e for x in l]``

Refused (`Untranslatable`, with the column): ranges to iterate over (``for i in 1..3``),
``if`` inside an operation without parentheses, ``instance of``, function definitions,
other date/time functions and ``@"..."`` literals, ``is defined(x)`` (it needs the variable context), any other
function, named arguments, filters with conditions (``l[item > 3]``), ranges outside ``in``,
``x in y`` with a variable ``y`` (a list or a value? use ``list contains``), names with
spaces or in backticks, ``?``, comments, ``%`` (not FEEL: use ``modulo``), chained
comparisons, and contexts whose entries refer to earlier entries.

Where Python differs and the translation does not hide it: FEEL numbers are decimals
(``0.1 + 0.2 = 0.3`` is true there, false in Python); FEEL gives null where Python raises
(comparing or adding null, a missing context key, an index out of range, division by zero,
``"a" + 1``); a path on a list of contexts is not projected; ``and``/``or`` on non-booleans
return an operand instead of null; ``string(null)`` is null there and ``'None'`` here.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Literal

from engine.bpmn.expression_syntax import (
    DescentParser,
    Dialect,
    Lexer,
    Token,
    TokenStream,
    Untranslatable,
    charge,
    compare,
    const,
    emit,
    equality,
    item,
    join,
    variable,
)
from engine.bpmn.feel_functions import FUNCTIONS, KNOWN, REFUSED_FUNCTIONS, Refusal, from_one, whole

_DIALECT = Dialect(
    operators=("**", "..", "<=", ">=", "!=", "//", "/*", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")",
               "[", "]", "{", "}", ",", ":", ".", "?", "@", "`"),
    quotes='"',
    escapes={'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"},
    unicode_escapes=True,
)
_KEYWORDS = frozenset({"true", "false", "null", "and", "or", "not", "if", "then", "else", "for", "in", "return",
                       "some", "every", "satisfies", "between", "instance", "of", "function"})
_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}
_ORDER: dict[str, Callable[[], ast.cmpop]] = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}
_COMPARISONS = frozenset({"=", "!=", *_ORDER})
_REFUSED = {
    "function": "function definitions are not supported",
    "instance": "'instance of' is not supported",
    "if": "an 'if' inside an operation must be in parentheses",
    "not": "'not' is a function in FEEL: write not(x)",
    "%": "FEEL has no '%' operator; use modulo(a, b)",
    "@": "temporal literals (@\"...\") are not supported",
    "?": "'?' (the input value of unary tests) is not supported",
    "`": "names in backticks are not supported",
    "//": "comments are not supported",
    "/*": "comments are not supported",
    "..": "ranges are only supported after 'in', like 'x in [1..10]'",
    "]": "ranges are only supported after 'in', like 'x in ]1..10]'",
    **dict.fromkeys(_ORDER, "unary tests like '< 10' are only supported after 'in'"),
}
_TEST_STARTS = ("<", "<=", ">", ">=", "[", "]", "(")
_Test = tuple[Literal["value", "list", "test"], ast.expr]


def is_feel(text: str) -> bool:
    """Whether `text` is a Camunda 8 FEEL expression (starts with ``=``)."""
    return text.strip().startswith("=")


def feel_to_python(text: str) -> str:
    """Python source for the FEEL expression `text` (without its leading ``=``).

    Raises:
        Untranslatable: text outside the supported subset; `offset` points at the cause.
    """
    charge(text)
    parser = _Parser(TokenStream(Lexer(text, _DIALECT)))
    if parser.tokens.is_op("="):
        parser.tokens.fail("pass the expression without its leading '='", parser.tokens.peek())
    try:
        node = parser.expression()
    except RecursionError:
        raise Untranslatable("expression is nested too deeply", text) from None
    if parser.tokens.peek().kind != "end":
        parser.unexpected(parser.tokens.peek())
    return emit(node, text)


class _Parser(DescentParser):
    """Recursive descent over one FEEL expression, lowest precedence first."""

    refused = _REFUSED

    def expression(self) -> ast.expr:
        tokens = self.tokens
        if tokens.is_word("if"):
            tokens.take()
            condition = self.expression()
            tokens.expect("then", "after the condition of 'if'")
            yes = self.expression()
            tokens.expect("else", "after the 'then' branch")
            return ast.IfExp(condition, yes, self.expression())
        if tokens.is_word("for", "some", "every"):
            return self._iteration()
        values = [self._conjunction()]
        while tokens.is_word("or"):
            tokens.take()
            values.append(self._conjunction())
        return join(ast.Or(), values)

    def _iteration(self) -> ast.expr:
        """``some``/``every x in l, y in m satisfies c`` -> ``any``/``all`` over a generator;
        ``for x in l return e`` -> a list comprehension."""
        tokens = self.tokens
        kind = tokens.take().text
        loops: list[ast.comprehension] = []
        while True:
            name = tokens.take()
            if name.kind != "name" or name.text in _KEYWORDS:
                self.unexpected(name)
            target = variable(name, tokens.text)
            tokens.expect("in", f"after '{name.text}'")
            if tokens.is_op("[") and self._is_range():
                tokens.fail("ranges are only supported after 'in' in a test, like 'x in [1..10]'", tokens.peek())
            source = self._conjunction()
            loops.append(ast.comprehension(ast.Name(target.id, ast.Store()), source, [], 0))
            if not tokens.is_op(","):
                break
            tokens.take()
        tokens.expect("return" if kind == "for" else "satisfies", "after the iteration")
        body = self.expression()
        if kind == "for":
            return ast.ListComp(body, loops)
        return ast.Call(ast.Name("any" if kind == "some" else "all", ast.Load()), [ast.GeneratorExp(body, loops)], [])

    def _is_range(self) -> bool:
        depth, k = 0, 0
        while (token := self.tokens.peek(k)).kind != "end":
            if token.kind == "op" and token.text in ("[", "(", "{"):
                depth += 1
            elif token.kind == "op" and token.text in ("]", ")", "}"):
                depth -= 1
                if depth == 0:
                    return False
            elif token.text == ".." and depth == 1 and token.kind == "op":
                return True
            k += 1
        return False

    def _conjunction(self) -> ast.expr:
        values = [self._comparison()]
        while self.tokens.is_word("and"):
            self.tokens.take()
            values.append(self._comparison())
        return join(ast.And(), values)

    def _comparison(self) -> ast.expr:
        tokens = self.tokens
        left = self._sum()
        if tokens.is_op(*_COMPARISONS):
            op = tokens.take().text
            right = self._sum()
            node = equality(left, right, op == "!=") if op in ("=", "!=") else compare(left, _ORDER[op](), right)
        elif tokens.is_word("between"):
            tokens.take()
            low = self._sum()
            tokens.expect("and", "between the bounds of 'between'")
            node = ast.Compare(low, [ast.LtE(), ast.LtE()], [left, self._sum()])
        elif tokens.is_word("in"):
            tokens.take()
            node = self._in(left)
        else:
            return left
        if tokens.is_op(*_COMPARISONS) or tokens.is_word("between", "in"):
            tokens.fail("comparisons cannot be chained in FEEL; join them with 'and'", tokens.peek())
        return node

    def _in(self, subject: ast.expr) -> ast.expr:
        tokens = self.tokens
        if not tokens.is_op("("):
            start = tokens.peek()
            return self._single(subject, self._test(subject), start)
        opening = tokens.take()
        if tokens.is_op(*_TEST_STARTS):
            first = self._test(subject)
        else:
            value = self.expression()
            if tokens.is_op(".."):
                return self._range(subject, value, closed_start=False)[1]
            first = ("value", value)
        tests = [first]
        while tokens.is_op(","):
            tokens.take()
            tests.append(self._test(subject))
        tokens.expect(")", "to close the tests after 'in'")
        if len(tests) == 1:
            return self._single(subject, tests[0], opening)
        for kind, node in tests:
            if kind == "value" and _is_condition(node):
                tokens.fail("tests that are conditions are not supported after 'in'; compare the value", opening)
        if all(kind == "value" for kind, _ in tests):
            return compare(subject, ast.In(), ast.Tuple([node for _, node in tests], ast.Load()))
        return join(ast.Or(), [self._apply(subject, test) for test in tests])

    def _test(self, subject: ast.expr) -> _Test:
        tokens = self.tokens
        if tokens.is_op(*_ORDER):
            op = _ORDER[tokens.take().text]()
            return "test", compare(subject, op, self._sum())
        if tokens.is_op("]"):
            tokens.take()
            return self._range(subject, self._endpoint(), closed_start=False)
        if tokens.is_op("(", "["):
            opening = tokens.take()
            if opening.text == "[" and tokens.is_op("]"):
                tokens.take()
                return "list", ast.List([], ast.Load())
            first = self.expression()
            if tokens.is_op(".."):
                return self._range(subject, first, closed_start=opening.text == "[")
            if opening.text == "(":
                tokens.expect(")", "to close '('")
                return "value", first
            return "list", self._list_rest(first)
        return "value", self.expression()

    def _range(self, subject: ast.expr, low: ast.expr, closed_start: bool) -> _Test:
        tokens = self.tokens
        tokens.expect("..", "in a range")
        high = self._endpoint()
        closing = tokens.take()
        if not (closing.kind == "op" and closing.text in ("]", ")", "[")):
            self.unexpected(closing, "']' or ')' to end the range")
        ops: list[ast.cmpop] = [ast.LtE() if closed_start else ast.Lt(),
                                ast.LtE() if closing.text == "]" else ast.Lt()]
        return "test", ast.Compare(low, ops, [subject, high])

    def _endpoint(self) -> ast.expr:
        """A range bound: a literal, a path or a parenthesised expression (DMN 1.3 "endpoint").

        Not a full expression: in ``]1..10[`` the ``[`` closes the range, it is no filter.
        """
        tokens = self.tokens
        if tokens.is_op("-"):
            tokens.take()
            return ast.UnaryOp(ast.USub(), self._endpoint())
        if tokens.is_op("(") or tokens.peek().kind in ("number", "string"):
            return self._primary()
        node = self._primary()
        while tokens.is_op("."):
            tokens.take()
            name = tokens.take()
            if name.kind != "name":
                self.unexpected(name, "a name after '.'")
            node = item(node, const(name.text))
        return node

    def _single(self, subject: ast.expr, test: _Test, start: Token) -> ast.expr:
        kind, node = test
        if kind == "value" and _is_condition(node):
            self.tokens.fail("tests that are conditions are not supported after 'in'; compare the value", start)
        if kind == "value" and not (isinstance(node, ast.Constant) or whole(node) is not None):
            self.tokens.fail("after 'in' write a range, a list, values in parentheses or a literal; "
                             "for a list variable use list contains(l, x)", start)
        return self._apply(subject, test)

    @staticmethod
    def _apply(subject: ast.expr, test: _Test) -> ast.expr:
        kind, node = test
        if kind == "value":
            return equality(subject, node, negate=False)
        return compare(subject, ast.In(), node) if kind == "list" else node

    def _sum(self) -> ast.expr:
        left = self._product()
        while self.tokens.is_op("+", "-"):
            op = ast.Add() if self.tokens.take().text == "+" else ast.Sub()
            left = ast.BinOp(left, op, self._product())
        return left

    def _product(self) -> ast.expr:
        left = self._power()
        while self.tokens.is_op("*", "/"):
            op = ast.Mult() if self.tokens.take().text == "*" else ast.Div()
            left = ast.BinOp(left, op, self._power())
        if self.tokens.is_op("%"):
            self.unexpected(self.tokens.peek())
        return left

    def _power(self) -> ast.expr:
        left = self._negation()
        while self.tokens.is_op("**"):
            self.tokens.take()
            left = ast.BinOp(left, ast.Pow(), self._negation())
        return left

    def _negation(self) -> ast.expr:
        if self.tokens.is_op("-"):
            self.tokens.take()
            return ast.UnaryOp(ast.USub(), self._negation())
        return self._value()

    def _value(self) -> ast.expr:
        tokens = self.tokens
        node = self._primary()
        while tokens.is_op(".", "["):
            if tokens.take().text == "[":
                node = self._filter(node)
                continue
            name = tokens.take()
            if name.kind != "name":
                self.unexpected(name, "a name after '.'")
            if tokens.is_op("("):
                tokens.fail(f"calling a function through a path ('.{name.text}()') is not supported", name)
            node = item(node, const(name.text))
        return node

    def _filter(self, target: ast.expr) -> ast.expr:
        start = self.tokens.peek()
        index = self.expression()
        self.tokens.expect("]", "to close the filter")
        if any(_is_condition(node) or (isinstance(node, ast.Name) and node.id == "item") for node in ast.walk(index)):
            self.tokens.fail("filters with conditions (like l[item > 3]) are not supported", start)
        if isinstance(index, ast.Constant) and whole(index) is None:
            self.tokens.fail("a filter must be a whole-number position", start)
        try:
            return item(target, from_one(index))
        except Refusal as refusal:
            self.tokens.fail(str(refusal), start)

    def _primary(self) -> ast.expr:
        tokens = self.tokens
        token = tokens.peek()
        if token.kind in ("number", "string"):
            return const(tokens.take().value)
        if token.kind == "op" and token.text in ("(", "[", "{"):
            tokens.take()
            if token.text == "(":
                node = self.expression()
                tokens.expect(")", "to close '('")
                return node
            if token.text == "[":
                if tokens.is_op("]"):
                    tokens.take()
                    return ast.List([], ast.Load())
                return self._list_rest(self.expression())
            return self._context()
        if token.kind != "name":
            self.unexpected(tokens.take(), "a value")
        function = self._function_name()
        if function is not None:
            return self._call(*function)
        if token.text in _LITERALS:
            return const(_LITERALS[tokens.take().text])
        if token.text in _KEYWORDS:
            self.unexpected(token, "a value")
        if tokens.peek(1).kind == "name" and tokens.peek(1).text not in _KEYWORDS:
            tokens.fail("variable names with spaces are not supported", token)
        return variable(tokens.take(), tokens.text)

    def _list_rest(self, first: ast.expr) -> ast.expr:
        """The rest of a list literal whose ``[`` and first item are already read."""
        items = [first]
        while not self.tokens.is_op("]"):
            if self.tokens.is_op(".."):
                self.unexpected(self.tokens.peek())
            self.tokens.expect(",", "between list items")
            items.append(self.expression())
        self.tokens.take()
        return ast.List(items, ast.Load())

    def _context(self) -> ast.expr:
        tokens = self.tokens
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        while not tokens.is_op("}"):
            if values:
                tokens.expect(",", "between context entries")
            key = tokens.take()
            if key.kind not in ("name", "string") or key.text in _KEYWORDS:
                self.unexpected(key, "a context key (a name or a string)")
            tokens.expect(":", "after a context key")
            value = self.expression()
            earlier = {k.value for k in keys if isinstance(k, ast.Constant)}
            used = {node.id for node in ast.walk(value) if isinstance(node, ast.Name)} & earlier
            if used:
                tokens.fail(f"a context entry that uses an earlier entry ('{sorted(used)[0]}') is not supported", key)
            keys.append(const(key.text if key.kind == "name" else key.value))
            values.append(value)
        tokens.take()
        return ast.Dict(keys, values)

    def _function_name(self) -> tuple[str, int] | None:
        """The function called at this point (its name may be several words), or None."""
        words: list[str] = []
        while len(words) < 4 and self.tokens.peek(len(words)).kind == "name":
            words.append(self.tokens.peek(len(words)).text)
        for count in range(len(words), 0, -1):
            name = " ".join(words[:count])
            plain = not any(word in _KEYWORDS for word in words[:count])
            if self.tokens.is_op("(", k=count) and (name in KNOWN or plain):
                return name, count
        return None

    def _call(self, name: str, words: int) -> ast.expr:
        tokens = self.tokens
        start = tokens.peek()
        if name in REFUSED_FUNCTIONS:
            tokens.fail(REFUSED_FUNCTIONS[name], start)
        if name not in FUNCTIONS:
            tokens.fail(f"function '{name}()' is not supported", start)
        for _ in range(words):
            tokens.take()
        tokens.expect("(", "before the arguments")
        args: list[ast.expr] = []
        while not tokens.is_op(")"):
            if args:
                tokens.expect(",", "between arguments")
            label = 0
            while tokens.peek(label).kind == "name" and label < 4:
                label += 1
            if label and tokens.is_op(":", k=label):
                tokens.fail("named arguments are not supported; pass them in order", tokens.peek())
            args.append(self.expression())
        tokens.take()
        counts, build = FUNCTIONS[name]
        if len(args) not in counts:
            expected = " or ".join(str(n) for n in counts) if len(counts) < 3 else f"at least {counts.start}"
            tokens.fail(f"{name}() takes {expected} argument(s), not {len(args)}", start)
        try:
            return build(args)
        except Refusal as refusal:
            tokens.fail(str(refusal), start)


def _is_condition(node: ast.AST) -> bool:
    return isinstance(node, (ast.Compare, ast.BoolOp)) or (isinstance(node, ast.UnaryOp)
                                                           and isinstance(node.op, ast.Not))
