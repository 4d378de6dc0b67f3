"""Static half of the script sandbox: parse, check against an allow-list, rewrite, compile.

The parser has already NFKC-normalized every identifier (``ｅｘｅｃ`` is ``exec``, ``_＿class＿＿``
is ``__class__``), so the checks below see the names Python will actually use.
"""

from __future__ import annotations

import ast
import functools
from types import CodeType
from typing import Any, Literal

from engine.core.sandbox_guards import (
    ADD,
    AND,
    CATCHABLE,
    CHECKED,
    CONTAINS,
    DICT_DISPLAY,
    DISPLAY,
    FSTRING,
    GETATTR,
    HANDLER,
    INPLACE_ITEM,
    KEYWORDS,
    LOOP_MARK,
    LSHIFT,
    MOD,
    MUL,
    NESTED_TYPES,
    OR,
    POW,
    RAISABLE,
    SEARCHED_TYPES,
    SLICE_TARGET,
    SPREAD,
    SUB,
    TYPE,
    XOR,
    format_spec_problem,
)
from engine.core.sandbox_run import SCRIPT_FILENAME, SandboxLimits, SandboxViolation

Mode = Literal["eval", "exec"]

# Everything else (import, class, global/nonlocal, with, match, yield, await, async,
# try/finally, annotations, "@") is refused: none of it is needed to compute task data,
# and each is a known way around a sandbox (match class patterns call getattr, finally
# blocks run after the tracer has stopped, yield keeps frames alive past the CPU limit).
_ALLOWED: frozenset[type[ast.AST]] = frozenset({
    ast.Module, ast.Expression,
    ast.FunctionDef, ast.Return, ast.Delete, ast.Assign, ast.AugAssign, ast.For, ast.While, ast.If,
    ast.Raise, ast.Try, ast.ExceptHandler, ast.Assert, ast.Expr, ast.Pass, ast.Break, ast.Continue,
    ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp, ast.Dict, ast.Set,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.Compare,
    ast.Call, ast.keyword, ast.FormattedValue, ast.JoinedStr, ast.Constant, ast.Attribute,
    ast.Subscript, ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice, ast.arguments, ast.arg,
    ast.Load, ast.Store, ast.Del, ast.And, ast.Or, ast.Not, ast.Invert, ast.UAdd, ast.USub,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift,
    ast.BitOr, ast.BitXor, ast.BitAnd, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is,
    ast.IsNot, ast.In, ast.NotIn,
})
_REFUSALS: dict[type[ast.AST], str] = {
    ast.Import: "import is not allowed", ast.ImportFrom: "import is not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.Global: "'global' is not allowed", ast.Nonlocal: "'nonlocal' is not allowed",
    ast.With: "'with' is not allowed", ast.Match: "'match' is not allowed",
    ast.Yield: "'yield' is not allowed", ast.YieldFrom: "'yield' is not allowed",
    ast.Await: "async code is not allowed", ast.AsyncFunctionDef: "async code is not allowed",
    ast.AsyncFor: "async code is not allowed", ast.AsyncWith: "async code is not allowed",
    ast.TryStar: "'except*' is not allowed", ast.AnnAssign: "annotations are not allowed",
    ast.MatMult: "the '@' operator is not allowed",
}
_GUARDED_OPS: dict[type[ast.operator], str] = {
    ast.Add: ADD, ast.Mult: MUL, ast.Pow: POW, ast.LShift: LSHIFT, ast.Mod: MOD,
    ast.BitOr: OR, ast.BitAnd: AND, ast.BitXor: XOR, ast.Sub: SUB,
}
# With a number on either side these cannot grow or hash a container (it would raise).
_NUMERIC_SAFE = (ast.Add, ast.Sub, ast.BitOr, ast.BitAnd, ast.BitXor)


def _private(name: str) -> str | None:
    # A lone "_" is the usual throw-away loop variable and names nothing special.
    if name.startswith("_") and name != "_":
        return f"names starting with an underscore are not allowed: '{name}'"
    return None


def _problem(node: ast.AST, max_width: int) -> str | None:
    """Why an allowed node type is still refused in this shape, or None."""
    if isinstance(node, ast.Name):
        return _private(node.id)
    if isinstance(node, ast.Attribute):
        if not isinstance(node.ctx, ast.Load):
            return "assigning or deleting attributes is not allowed"
        return _private(node.attr)
    if isinstance(node, ast.keyword):
        return _private(node.arg) if node.arg else None
    if isinstance(node, ast.arg):
        return "annotations are not allowed" if node.annotation else _private(node.arg)
    if isinstance(node, ast.FunctionDef):
        if node.decorator_list:
            return "decorators are not allowed"
        return "annotations are not allowed" if node.returns else _private(node.name)
    if isinstance(node, ast.Lambda) and (node.args.defaults or any(node.args.kw_defaults)):
        return "default values in lambdas are not allowed"
    if isinstance(node, ast.ExceptHandler):
        if node.type is None:
            return "a bare 'except:' is not allowed; name the exception, e.g. 'except ValueError:'"
        return _private(node.name) if node.name else None
    if isinstance(node, ast.Try) and node.finalbody:
        return "'finally' is not allowed"
    if isinstance(node, ast.comprehension) and node.is_async:
        return "async code is not allowed"
    if isinstance(node, ast.Constant) and not isinstance(node.value, (str, int, float, type(None))):
        return f"{type(node.value).__name__} literals are not allowed"
    if isinstance(node, ast.FormattedValue) and isinstance(node.format_spec, ast.JoinedStr):
        parts = node.format_spec.values
        if not all(isinstance(part, ast.Constant) for part in parts):
            return "nested replacement fields in format specs are not allowed"
        spec = "".join(str(part.value) for part in parts if isinstance(part, ast.Constant))
        return format_spec_problem(spec, max_width)
    if (isinstance(node, ast.AugAssign) and type(node.op) in _GUARDED_OPS
            and isinstance(node.target, ast.Subscript) and isinstance(node.target.slice, ast.Slice)):
        return "augmented assignment to a slice is not allowed"
    return None


def _check(tree: ast.AST, max_width: int) -> None:
    # Iterative walk: a deeply nested expression must not blow the checker's own stack.
    pending: list[tuple[ast.AST, int]] = [(tree, 1)]
    while pending:
        node, line = pending.pop()
        line = getattr(node, "lineno", line)
        kind = type(node)
        reason = (_problem(node, max_width) if kind in _ALLOWED
                  else _REFUSALS.get(kind, f"'{kind.__name__}' syntax is not allowed"))
        if reason:
            raise SandboxViolation(f"{reason} (line {line})")
        pending.extend((child, line) for child in ast.iter_child_nodes(node))


def _guard_for(op: ast.operator, left: ast.expr, right: ast.expr) -> str | None:
    """The guard name for an operator, or None when it needs none."""
    # "+" with a number literal cannot grow a sequence (sequence + number raises), so the
    # most common statement in loops, "count += 1", stays a plain addition.
    if isinstance(op, _NUMERIC_SAFE) and any(isinstance(side, ast.Constant) and isinstance(side.value, (int, float))
                                             for side in (left, right)):
        return None
    return _GUARDED_OPS.get(type(op))


def _call(name: str, where: ast.AST, *args: ast.expr) -> ast.Call:
    return ast.copy_location(ast.Call(ast.Name(name, ast.Load()), list(args), []), where)


def _literal(node: ast.expr) -> bool:
    """A constant, or a tuple/list/set of constants: cheap to compare with and to hash."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_literal(element) for element in node.elts)
    return False


def _flat(name: ast.Name, kinds: str = NESTED_TYPES) -> ast.expr:
    """The inline test ``type(name) not in kinds``: by default true for numbers, text and dates."""
    return ast.Compare(_call(TYPE, name, ast.Name(name.id, ast.Load())), [ast.NotIn()],
                       [ast.Name(kinds, ast.Load())])


def _walked(node: ast.expr) -> ast.expr:
    """`node`, checked before C code compares or hashes it (see `Guards.checked`).

    A plain name gets an inline type test, so the common case (a number or text) costs no
    call; any other expression is evaluated once, inside the guard call.
    """
    if _literal(node):
        return node
    if isinstance(node, ast.Name):
        return ast.copy_location(ast.IfExp(_flat(node), ast.Name(node.id, ast.Load()),
                                           _call(CHECKED, node, ast.Name(node.id, ast.Load()))), node)
    return _call(CHECKED, node, node)


def _cheap(left: ast.expr, op: ast.cmpop, right: ast.expr) -> bool:
    """Whether one comparison is bounded by the literal on one side."""
    if isinstance(op, (ast.Is, ast.IsNot)):
        return True
    if isinstance(op, (ast.In, ast.NotIn)):
        # "x in (1, 2)" compares x with two constants; "x in {1, 2}" hashes x.
        return isinstance(left, ast.Constant) or isinstance(right, ast.Constant) or (
            isinstance(right, (ast.Tuple, ast.List)) and _literal(right))
    return _literal(left) or _literal(right)


def _spread_parts(elements: list[ast.expr]) -> list[ast.expr]:
    return [_call(SPREAD, e, e.value) if isinstance(e, ast.Starred) else e for e in elements]


class _Rewriter(ast.NodeTransformer):
    """Routes attribute reads, growing operators, unpacking, slice stores, f-strings, compared
    and hashed values, except and raise through the guards."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return _call(GETATTR, node, node.value, ast.Constant(node.attr))

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        guard = _guard_for(node.op, node.left, node.right)
        return _call(guard, node, node.left, node.right) if guard else node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        guard = _guard_for(node.op, node.target, node.value)
        if guard is None:
            return node
        if isinstance(node.target, ast.Name):
            current = ast.Name(node.target.id, ast.Load())
            inplace = _call(guard, node, current, node.value, ast.Constant(True))
            return ast.copy_location(ast.Assign([node.target], inplace), node)
        assert isinstance(node.target, ast.Subscript)  # attributes and slices were refused
        target = node.target
        guard_name = ast.Name(guard, ast.Load())
        return ast.copy_location(
            ast.Expr(_call(INPLACE_ITEM, node, guard_name, target.value, target.slice, node.value)), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        operands = [node.left, *node.comparators]
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
                and not _cheap(node.left, node.ops[0], node.comparators[0]):
            return self._membership(node)
        checked: set[int] = set()
        for index, op in enumerate(node.ops):
            if not _cheap(operands[index], op, operands[index + 1]):
                checked |= {index, index + 1}
        operands = [_walked(operand) if i in checked else operand for i, operand in enumerate(operands)]
        node.left, node.comparators = operands[0], operands[1:]
        return node

    @staticmethod
    def _membership(node: ast.Compare) -> ast.expr:
        """``x in y`` through `Guards.contains`, which bounds what the scan or the hash costs;
        a number or a date x (tested inline when x is a name) needs no check. A text x does:
        searching a list compares it with every item of the same length, in full."""
        left, right = node.left, node.comparators[0]
        guarded: ast.expr = _call(CONTAINS, node, left, right)
        if isinstance(node.ops[0], ast.NotIn):
            guarded = ast.copy_location(ast.UnaryOp(ast.Not(), guarded), node)
        if isinstance(left, ast.Name):
            guarded = ast.copy_location(ast.IfExp(_flat(left, SEARCHED_TYPES), node, guarded), node)
        return guarded

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.slice, ast.Slice):
            if isinstance(node.ctx, ast.Store):
                node.value = _call(SLICE_TARGET, node.value, node.value)
        else:
            node.slice = _walked(node.slice)
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return _call(DISPLAY, node, ast.Constant("set"), *_spread_parts(node.elts))
        node.elts = [_walked(e) for e in node.elts]
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts):
            return _call(DISPLAY, node, ast.Constant("list"), *_spread_parts(node.elts))
        return node

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts):
            return _call(DISPLAY, node, ast.Constant("tuple"), *_spread_parts(node.elts))
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        if any(key is None for key in node.keys):
            parts: list[ast.expr] = [
                _call(SPREAD, value, value) if key is None
                else ast.copy_location(ast.Tuple([_walked(key), value], ast.Load()), value)
                for key, value in zip(node.keys, node.values, strict=True)]
            return _call(DICT_DISPLAY, node, *parts)
        node.keys = [_walked(key) if key is not None else None for key in node.keys]
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        self.generic_visit(node)
        node.elt = _walked(node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        self.generic_visit(node)
        node.key = _walked(node.key)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            spread = _call(DISPLAY, node, ast.Constant("tuple"), *_spread_parts(node.args))
            node.args = [ast.copy_location(ast.Starred(spread, ast.Load()), node)]
        if any(keyword.arg is None for keyword in node.keywords):
            parts: list[ast.expr] = [
                _call(SPREAD, k.value, k.value) if k.arg is None
                else ast.copy_location(ast.Tuple([ast.Constant(k.arg), k.value], ast.Load()), k.value)
                for k in node.keywords]
            node.keywords = [ast.keyword(None, _call(KEYWORDS, node, *parts))]
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        # Not generic_visit: a format spec is a JoinedStr of constants that must stay one.
        parts: list[str | tuple[int, str]] = []
        values: list[ast.expr] = []
        for piece in node.values:
            if isinstance(piece, ast.FormattedValue):
                spec = piece.format_spec
                text = "".join(str(p.value) for p in spec.values if isinstance(p, ast.Constant)) \
                    if isinstance(spec, ast.JoinedStr) else ""
                parts.append((piece.conversion, text))
                values.append(self.visit(piece.value))
            elif isinstance(piece, ast.Constant):
                parts.append(str(piece.value))
        if not values:
            return node
        template: Any = tuple(parts)  # a constant tuple: the literal pieces and each field's form
        return _call(FSTRING, node, ast.Constant(template), *values)

    def visit_While(self, node: ast.While) -> ast.AST:
        # CPython 3.11 compiles "while True: pass" (or any body that folds away) to a jump
        # onto itself, which never reports a line event, so the tracer could not stop it.
        # A name load at the top of the body makes every iteration a traced backward jump.
        self.generic_visit(node)
        node.body.insert(0, ast.copy_location(ast.Expr(ast.Name(LOOP_MARK, ast.Load())), node))
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        self.generic_visit(node)
        assert node.type is not None  # bare except was refused
        node.type = _call(CATCHABLE, node.type, node.type)
        node.body.insert(0, ast.copy_location(ast.Expr(_call(HANDLER, node)), node))
        return node

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        self.generic_visit(node)
        if node.exc is not None:
            node.exc = _call(RAISABLE, node.exc, node.exc)
        if node.cause is not None:
            node.cause = _call(RAISABLE, node.cause, node.cause)
        return node


def parse(source: str, mode: Mode) -> ast.Module | ast.Expression:
    """Python's syntax tree of `source`; raises only SyntaxError or SandboxViolation.

    `ast.parse` fails in more ways than SyntaxError on hostile text: MemoryError when the
    parser's own stack overflows on deep nesting (a few thousand unary minus signs do it),
    RecursionError, and ValueError for NUL characters. Every caller that reads model text
    goes through here, so none of them can turn a bad upload into a server error.
    """
    try:
        # eval() ignores leading blanks, and conditions copied from a modeler often have them.
        tree = ast.parse(source.lstrip(" \t") if mode == "eval" else source, SCRIPT_FILENAME, mode)
    except (MemoryError, RecursionError):
        raise SandboxViolation("script is nested too deeply to read") from None
    except ValueError as err:
        line = source.count("\n", 0, source.find("\0")) + 1 if "\0" in source else None
        raise SandboxViolation(f"script cannot be read: {err}" + (f" (line {line})" if line else "")) from None
    assert isinstance(tree, (ast.Module, ast.Expression))
    return tree


def compile_checked(source: str, mode: Mode, limits: SandboxLimits) -> CodeType:
    """Check and compile `source`; raises SyntaxError or SandboxViolation.

    Cached by text, so a condition evaluated on every token costs one dictionary lookup.
    """
    return _compile(source, mode, limits.max_sequence_length, limits.max_source_length)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode, max_width: int, max_source: int) -> CodeType:
    if len(source) > max_source:
        raise SandboxViolation(f"script is {len(source):,} characters long, over the limit of {max_source:,}")
    tree = parse(source, mode)
    try:
        _check(tree, max_width)
        rewritten = ast.fix_missing_locations(_Rewriter().visit(tree))
        assert isinstance(rewritten, (ast.Module, ast.Expression))
        return compile(rewritten, SCRIPT_FILENAME, mode)
    except (MemoryError, RecursionError):
        raise SandboxViolation("script is nested too deeply") from None
