"""Statuses are named by their enums (engine/core/statuses.py), never spelt as strings: no
module compares, assigns, returns or passes as `status=` a literal status word, so renaming or
adding a status is one edit, and a typo is a mypy or import error rather than a silent miss.

Migrations are left out: they repeat the values on purpose, to keep doing what they did."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from engine.core import statuses
from engine.core.statuses import CallStatus, IncidentStatus, InstanceStatus, PaymentStatus, TaskStatus

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "forms", "connectors")
WORDS = {member.value for kind in (InstanceStatus, TaskStatus, CallStatus, IncidentStatus, PaymentStatus)
         for member in kind}
# What a literal passes through on its way to where it is used: `("a", "b")`, `x if c else "a"`.
THROUGH = (ast.Tuple, ast.List, ast.Set, ast.IfExp, ast.BoolOp, ast.Starred)


def _is_status_use(node: ast.AST, child: ast.AST) -> bool:
    """Whether `child`, a literal (or what holds it) directly under `node`, is used as a status."""
    match node:
        case ast.Compare() | ast.Return() | ast.arguments():
            return True
        case ast.Assign(targets=targets):
            return not any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in targets)
        case ast.AnnAssign() | ast.AugAssign():
            return child is node.value
        case ast.keyword(arg=arg):
            return arg == "status"
        case ast.Call(func=ast.Attribute(attr="in_")):
            return True
        case ast.Dict(keys=keys, values=values):
            return any(value is child and isinstance(key, ast.Constant) and key.value == "status"
                       for key, value in zip(keys, values, strict=True))
    return False


def literal_statuses(root: Path) -> Iterator[str]:
    """`path:line 'word'` for every status word used as a literal under `root`'s packages."""
    own = Path(statuses.__file__).resolve().relative_to(ROOT)
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            # Alembic revisions are frozen history; the simulated agencies are other agencies'
            # systems, with their own words for their own records ("completed" military service).
            if "migrations" in relative.parts or "simulators" in relative.parts or relative == own:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Constant) and node.value in WORDS):
                    continue
                child, parent = node, parents.get(node)
                while isinstance(parent, THROUGH):
                    child, parent = parent, parents.get(parent)
                if parent is not None and _is_status_use(parent, child):
                    yield f"{relative}:{node.lineno} {node.value!r}"


def test_no_status_is_spelt_as_a_string_outside_its_enum() -> None:
    found = list(literal_statuses(ROOT))
    assert not found, "use the enums of engine/core/statuses.py instead of:\n" + "\n".join(found)


def test_the_scan_finds_a_literal_in_each_kind_of_use(tmp_path: Path) -> None:
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "sample.py").write_text(
        'OPEN = ("running", "waiting")\n'
        'def f(row, query, status="ready"):\n'
        '    if row.status == "completed" or row.status in ("failed", "terminated"):\n'
        '        row.status, row.at = "cancelled", 1\n'
        '    query.where(Row.status.in_(["incident"]))\n'
        '    make(status="caught" if row else "open")\n'
        '    out = {"status": "resolved", "waiting": []}\n'
        '    __tablename__ = "incident"\n'
        '    send(["ready", 1])\n'
        '    return "running"\n', encoding="utf-8")
    found = [line.split(" ", 1)[1] for line in literal_statuses(tmp_path)]
    assert found.count("'running'") == 2 and "'waiting'" in found  # the constant, the return; not the dict key
    assert {"'ready'", "'completed'", "'failed'", "'terminated'", "'cancelled'", "'incident'", "'caught'",
            "'open'", "'resolved'"} <= set(found)
    assert len(found) == 12  # not the table name, nor a message's kind in a call
