"""Routes hold a transaction only to hand it to services.

The import contract in pyproject keeps SQLAlchemy and the models out of `engine.api` and
`engine.web`; this test keeps the transaction a route receives opaque: a route may pass it on,
never call or read anything on it (no `session.execute`, `session.add`, `session.commit`), so
every read and write, and the rule about who may see what, lives in a service.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import engine

ROOT = Path(engine.__file__).resolve().parent
ROUTE_PACKAGES = ("api", "web")
# Dependencies that hand a route a transaction or the means to open one.
HANDLE_ANNOTATIONS = {"ReadSessionDep", "Transaction"}
OPENERS = {"reading", "unit_of_work", "write"}


def _route_modules() -> Iterator[Path]:
    for package in ROUTE_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    return None


def _handles(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names in `function` (and the functions inside it) bound to a transaction."""
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.arg) and node.annotation is not None and _name(node.annotation) in HANDLE_ANNOTATIONS:
            found.add(node.arg)
        if (isinstance(node, ast.withitem) and isinstance(node.context_expr, ast.Call)
                and _name(node.context_expr.func) in OPENERS and isinstance(node.optional_vars, ast.Name)):
            found.add(node.optional_vars.id)
    return found


def misuses(source: str, filename: str = "<route>") -> tuple[int, list[str]]:
    """How many transaction names `source` binds, and each place it uses one other than by passing it."""
    bound, found = 0, []
    for function in ast.walk(ast.parse(source, filename)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        handles = _handles(function)
        bound += len(handles)
        found += [f"{filename}:{node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(function)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in handles]
    return bound, sorted(set(found))


def test_the_check_sees_a_route_that_queries() -> None:
    source = (
        "def page(session: ReadSessionDep) -> None:\n"
        "    queries.list_tasks(session, principal)\n"
        "def post(write: WriterDep) -> None:\n"
        "    with write() as session:\n"
        "        session.add(row)\n"
        "def other(page: Page) -> None:\n"
        "    with page.runtime.reading() as tx:\n"
        "        tx.execute(query)\n")
    bound, found = misuses(source)
    assert bound == 3
    assert found == ["<route>:5: session.add", "<route>:8: tx.execute"]


def test_routes_only_pass_their_transaction_on() -> None:
    bound, found = 0, []
    for path in _route_modules():
        count, problems = misuses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT.parent)))
        bound += count
        found += problems
    assert found == []
    # The routes do open transactions: a check that found none would prove nothing.
    assert bound >= 30
