"""SpiffWorkflow's internals are used in engine/core/spiff_compat.py and nowhere else, and that
module refuses a SpiffWorkflow it was not written for.

The scan reads every module of the product (engine, forms, connectors) and reports:
imports of private SpiffWorkflow names; attributes with a name SpiffWorkflow keeps private
(`task._parent`, `spec._update(...)`), whatever the object, since only SpiffWorkflow
objects carry them; in a class derived from a SpiffWorkflow class, a private method of
that class overridden or a private attribute of it used through `self`/`super()`; the
same names reached through strings (`getattr(task, "_state")`, `task.__dict__["_state"]`);
re-classing an object; and function defaults or frames (`__defaults__`, `tb_frame`...).
Subclassing public SpiffWorkflow classes and calling their public methods is fine.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import SpiffWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

from engine.core import spiff_compat
from engine.core.spiff_compat import ITERATOR_MAX_DEPTH, SUPPORTED_VERSIONS, UnsupportedSpiffWorkflow, check_version

ROOT = Path(__file__).resolve().parents[2]
WALL = ROOT / "engine" / "core" / "spiff_compat.py"
PACKAGES = ("engine", "forms", "connectors")
# Reaching into functions and frames: never needed by code that uses a library as published.
RUNTIME_INTERNALS = frozenset({"__defaults__", "__kwdefaults__", "__code__", "__closure__", "__globals__",
                               "tb_frame", "tb_next", "f_locals", "f_globals", "f_back", "_getframe"})
NAME_READERS = frozenset({"getattr", "setattr", "hasattr", "delattr"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


@cache
def spiff_private_names() -> frozenset[str]:
    """Every private name SpiffWorkflow's installed source defines or uses on an object."""
    found: set[str] = set()
    for path in Path(SpiffWorkflow.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = node.name
            elif isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            else:
                continue
            if _private(name):
                found.add(name)
    return frozenset(found)


def _from_spiff(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "SpiffWorkflow"


@cache
def inherited_private_names(cls: type) -> frozenset[str]:
    """Private names the SpiffWorkflow classes above `cls` define or set on `self`."""
    found: set[str] = set()
    for base in cls.__mro__:
        if not _from_spiff(base):
            continue
        found.update(name for name in vars(base) if _private(name))
        source = ast.parse(textwrap.dedent(inspect.getsource(base)))
        found.update(node.attr for node in ast.walk(source) if isinstance(node, ast.Attribute) and _private(node.attr))
    return frozenset(found)


def _is_self(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in {"self", "cls"}
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


class _Scan(ast.NodeVisitor):
    def __init__(self, resolve: Callable[[str], Any]) -> None:
        self.resolve = resolve
        self.private = spiff_private_names()
        self.inherited: list[frozenset[str] | None] = []  # per enclosing class: None when not from SpiffWorkflow
        self.found: list[tuple[int, str]] = []

    def _report(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] == "SpiffWorkflow":
            if any(_private(part) for part in module.split(".")):
                self._report(node, f"imports private module {module}")
            for alias in node.names:
                if _private(alias.name):
                    self._report(node, f"imports private {module}.{alias.name}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == "SpiffWorkflow" and any(_private(part) for part in parts):
                self._report(node, f"imports private module {alias.name}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        cls = self.resolve(node.name) if not self.inherited else None
        spiff = isinstance(cls, type) and any(_from_spiff(base) for base in cls.__mro__)
        self.inherited.append(inherited_private_names(cls) if spiff and isinstance(cls, type) else None)
        for item in node.body:
            names = self.inherited[-1]
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and names and item.name in names:
                self._report(item, f"overrides SpiffWorkflow's private {node.name}.{item.name}")
        self.generic_visit(node)
        self.inherited.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if name in RUNTIME_INTERNALS:
            self._report(node, f"reaches into functions or frames: .{name}")
        elif name == "__class__" and isinstance(node.ctx, ast.Store):
            self._report(node, "re-classes an object")
        elif _private(name) and name in self.private:
            if not _is_self(node.value):
                self._report(node, f"uses SpiffWorkflow's private .{name}")
            elif (names := next((n for n in reversed(self.inherited) if n is not None), None)) and name in names:
                self._report(node, f"uses SpiffWorkflow's private self.{name}")
        self.generic_visit(node)

    def _private_string(self, node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in self.private:
            return node.value
        return None

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in NAME_READERS and len(node.args) > 1 \
                and (name := self._private_string(node.args[1])) is not None:
            self._report(node, f"{func.id}(..., {name!r})")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) \
                and func.value.attr == "__dict__" and node.args and (name := self._private_string(node.args[0])):
            self._report(node, f"__dict__.{func.attr}({name!r})")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.value, ast.Attribute) and node.value.attr == "__dict__" \
                and (name := self._private_string(node.slice)) is not None:
            self._report(node, f"__dict__[{name!r}]")
        self.generic_visit(node)


def internal_uses(source: str, resolve: Callable[[str], Any]) -> list[tuple[int, str]]:
    """(line, what) for each use of SpiffWorkflow internals in `source`; `resolve` gives the
    class object of a top-level class by name (to see what it derives from)."""
    scan = _Scan(resolve)
    scan.visit(ast.parse(source))
    return scan.found


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolver(path: Path, tree: ast.Module) -> Callable[[str], Any]:
    # A class can only derive from SpiffWorkflow through SpiffWorkflow or engine.core.
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    if not any(module.split(".")[0] == "SpiffWorkflow" or module.startswith("engine.core") for module in imported):
        return lambda name: None
    module = importlib.import_module(_module_name(path))
    return lambda name: getattr(module, name, None)


def _product_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                  if ".venv" not in path.parts)


def test_no_module_outside_the_wall_uses_spiffworkflow_internals() -> None:
    found = []
    for path in _product_files():
        if path == WALL:
            continue
        source = path.read_text(encoding="utf-8")
        uses = internal_uses(source, _resolver(path, ast.parse(source)))
        found += [f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in uses]
    assert found == [], "use engine/core/spiff_compat.py for these:\n" + "\n".join(found)


def test_the_wall_is_where_the_internals_are() -> None:
    source = WALL.read_text(encoding="utf-8")
    found = {what for _, what in internal_uses(source, lambda name: getattr(spiff_compat, name, None))}
    for expected in ("uses SpiffWorkflow's private ._parent", "reaches into functions or frames: .__defaults__",
                     "reaches into functions or frames: .tb_frame", "re-classes an object",
                     "overrides SpiffWorkflow's private HookedParallelGateway._update_hook",
                     "overrides SpiffWorkflow's private HookedServiceTask._execute",
                     "__dict__['_state']"):
        assert expected in found, sorted(found)


def _uses_in(snippet: str) -> list[str]:
    source = textwrap.dedent(snippet)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<snippet>", "exec"), namespace)
    return [what for _, what in internal_uses(source, namespace.get)]


@pytest.mark.parametrize("snippet", [
    "def f(task): return task._parent",
    "def f(task): task.task_spec._update(task)",
    "def f(task): task._set_state(16)",
    "def f(task): return getattr(task, '_state')",
    "def f(task): return task.__dict__['_state']",
    "def f(task): return task.__dict__.get('_children')",
    "def f(task, other): task.__class__ = other",
    "def patch(iterator): iterator.__init__.__defaults__ = (None, 10**6, True, None)",
    "def f(err): return err.__traceback__.tb_frame.f_locals",
    """
    from SpiffWorkflow.bpmn.specs.defaults import StartEvent
    class Start(StartEvent):
        def _run_hook(self, my_task):
            return True
    """,
    """
    from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
    class Join(ParallelGateway):
        def fire(self, my_task):
            return self._check_threshold_unstructured(my_task)
    """,
    """
    from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
    class Join(ParallelGateway):
        def join_run(self, my_task):
            return super()._run_hook(my_task)
    """,
], ids=["attribute", "spec-hook-call", "helper", "getattr", "dict-item", "dict-get", "re-class",
        "defaults", "frames", "override", "self-private", "super-private"])
def test_the_scan_reports_each_kind_of_internal_use(snippet: str) -> None:
    assert _uses_in(snippet) != []


def test_the_scan_reports_private_imports() -> None:
    source = "from SpiffWorkflow.bpmn.util.task import _private_helper\nimport SpiffWorkflow._internal.x\n"
    assert [what for _, what in internal_uses(source, lambda name: None)] == [
        "imports private SpiffWorkflow.bpmn.util.task._private_helper",
        "imports private module SpiffWorkflow._internal.x"]


def test_the_scan_leaves_our_own_private_names_and_public_subclassing_alone() -> None:
    assert _uses_in("""
    from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment
    from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
    class Environment(BasePythonScriptEngineEnvironment):
        def _run(self, code):  # SpiffWorkflow's environment has no _run of its own
            return self._run(code)
    class Join(ParallelGateway):
        def join_run(self, my_task):
            return my_task.workflow.get_tasks(state=16)
    class Table:
        def _update(self):  # not derived from SpiffWorkflow
            return self._update()
    """) == []


def test_an_unknown_spiffworkflow_version_is_refused_naming_the_module_and_what_to_check() -> None:
    with pytest.raises(UnsupportedSpiffWorkflow) as refused:
        check_version("3.3.0")
    message = str(refused.value)
    assert "engine/core/spiff_compat.py" in message and "3.3.0" in message
    assert "SUPPORTED_VERSIONS" in message and "--cross-check-index" in message
    for version in SUPPORTED_VERSIONS:
        check_version(version)


def test_the_task_iterators_descend_past_depth_1000() -> None:
    for iterator in (TaskIterator, BpmnTaskIterator):
        assert inspect.signature(iterator.__init__).parameters["max_depth"].default == ITERATOR_MAX_DEPTH
