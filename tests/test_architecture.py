"""The shape of the code, held by tests that read it: no import cycles, no borrowed private
names, and one writer of an instance's state.

These read the source (the import graph, the syntax tree); they do not run it. The test
suite itself is exempt from the private-name rule: tests may reach into a module to check it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("engine", "forms", "connectors")
# The one module that writes an instance's state, and the one that serializes a workflow for it.
SEAM = "engine.services.instance_store"
SNAPSHOT = "engine.core.snapshot"
# Instance columns only the seam writes; `state` and its versions are named nowhere else,
# while `status`, `data` and `error` are also fields of other rows (tasks, calls, drafts).
STATE_COLUMNS = {"state", "serializer_version", "library_version"}
INSTANCE_COLUMNS = STATE_COLUMNS | {"status", "data", "error"}
# SpiffWorkflow's private members that share a name with one of ours (`Task._children`),
# in the one module allowed to touch the library's internals (its own scan holds that).
LIBRARY_PRIVATE = {"engine.core.spiff_compat": {"_children"}}


def _sources() -> Iterator[tuple[str, ast.Module]]:
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic revisions are frozen history, each a script of its own
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_import_cycle_under_engine() -> None:
    """Every import counts, also one inside a function or under TYPE_CHECKING: a cycle
    hidden in a function is still two modules that cannot be understood one without the other."""
    graph = grimp.build_graph("engine", cache_dir=None)
    cycles = set()
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            chain = graph.find_shortest_chain(importer=imported, imported=importer)
            if chain is not None:
                cycles.add(" -> ".join((importer, *chain)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def _own_names(tree: ast.Module) -> set[str]:
    """Every name a module defines or assigns, at any level (functions, classes, attributes)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _module_aliases(tree: ast.Module, modules: set[str]) -> set[str]:
    """Local names bound to first-party modules (`import engine.x as y`, `from engine import x`)."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                        if alias.name.split(".")[0] in FIRST_PARTY}
        elif isinstance(node, ast.ImportFrom) and node.module:
            aliases |= {alias.asname or alias.name for alias in node.names
                        if f"{node.module}.{alias.name}" in modules}
    return aliases


def _private_uses(module: str, tree: ast.Module, modules: set[str], ours: set[str]) -> Iterator[str]:
    """Private names of other first-party modules that `module` imports or uses.

    `ours` is every private name some first-party module defines: a private attribute no
    module of ours defines (lxml's `etree._Element`, the public name of its element type)
    belongs to a library, not to a neighbour.
    """
    own = _own_names(tree)
    aliases = _module_aliases(tree, modules)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if _private(alias.name):
                    yield f"{module}:{node.lineno} imports {alias.name} from {node.module}"
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in aliases:
                yield f"{module}:{node.lineno} uses {owner.id}.{node.attr}"
            elif isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            elif isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue  # a subclass calling the hook it overrides
            elif node.attr in ours and node.attr not in own and node.attr not in LIBRARY_PRIVATE.get(module, ()):
                yield f"{module}:{node.lineno} uses .{node.attr}, private to another module"
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr")
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str) and _private(node.args[1].value)
              and node.args[1].value in ours and node.args[1].value not in own):
            yield f"{module}:{node.lineno} reaches {node.args[1].value} by {node.func.id}"


def test_no_module_uses_a_private_name_of_another() -> None:
    """A name with a leading underscore belongs to its module: if another needs it, the
    concept is missing a public name (as `InstanceStore.apply` replaced `instances._save`)."""
    sources = list(_sources())
    modules = {name for name, _ in sources}
    ours = {name for _, tree in sources for name in _own_names(tree) if _private(name)}
    found = [use for name, tree in sources for use in _private_uses(name, tree, modules, ours)]
    assert not found, "\n".join(found)


def _instance_names(function: ast.AST) -> set[str]:
    """Names that hold an Instance row in `function`: annotated so, or built or loaded as one."""
    names = {"instance"}
    for node in ast.walk(function):
        if isinstance(node, ast.arg) and node.annotation is not None and "Instance" in ast.unparse(node.annotation):
            names.add(node.arg)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = ast.unparse(node.value)
            if call.startswith("Instance(") or "get(Instance," in call or "select(Instance)" in call:
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _targets(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield from (target.elts if isinstance(target, ast.Tuple) else [target])
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        yield node.target


def _state_writes(module: str, tree: ast.Module) -> Iterator[str]:
    for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]:
        holders = _instance_names(function)
        for node in ast.walk(function):
            for target in _targets(node):
                if not isinstance(target, ast.Attribute) or not isinstance(target.value, ast.Name):
                    continue
                if target.value.id in ("self", "cls"):
                    continue
                if target.attr in STATE_COLUMNS or (target.attr in INSTANCE_COLUMNS and target.value.id in holders):
                    yield f"{module}:{target.lineno} writes {target.value.id}.{target.attr}"
            if isinstance(node, ast.Call):
                call = ast.unparse(node.func)
                if call.endswith(".dump") and module != SNAPSHOT and not call.startswith(("ast.", "json.")):
                    yield f"{module}:{node.lineno} serializes a workflow ({call})"
                if call == "Instance" or (call.endswith("update") and "Instance" in ast.unparse(node)):
                    yield f"{module}:{node.lineno} creates or updates instance rows ({call})"
                if call == "setattr" and node.args and ast.unparse(node.args[0]) in holders:
                    yield f"{module}:{node.lineno} sets an attribute of an instance by setattr"


def test_only_the_instance_store_writes_an_instance() -> None:
    """Instance state, status, data and error are written, and a workflow is serialized for
    storing, in `engine.services.instance_store` alone (the pure run of a change, in
    `engine.core.snapshot`, dumps the state it returns)."""
    found = sorted({write for name, tree in _sources() if name != SEAM for write in _state_writes(name, tree)})
    assert not found, "\n".join(found)


# Module names that are deliberately shared, and why. Any other name names one module only.
SHARED_NAMES = {
    "errors": "each layer's own errors (core, services, api), raised by that layer",
    "app": "an ASGI application: the whole product, its API, the simulated agencies",
    "deployments": "a route module is named after the service module it serves",
    "uploads": "a route module is named after the service module it serves",
    "signin": "a route module is named after the service module it serves",
    "issued_documents": "a route module is named after the service module it serves",
    "payments": "the API's and the pages' route modules are named after the service module they serve",
    "messages": "the BPMN message route, and forms' field error messages (moves with the FEEL issue)",
    "feel": "the two FEEL parsers, merged into one by the FEEL issue",
    "limits": "bounds of a database row, and of a connector's request",
    "failures": "how database errors, and how agency answers, are classified",
    "settings": "the engine's settings, and the simulated agencies' own",
}


def test_a_module_name_says_which_module_it_is() -> None:
    """`runtime`, `events`, `jobs`, `decisions`, `expressions` and `context` once each named
    two or three modules; a reader met one and had to find out which."""
    places: dict[str, list[str]] = {}
    for module, _tree in _sources():
        places.setdefault(module.rpartition(".")[2], []).append(module)
    # A connector and the simulated agency it calls share the agency's name, by design.
    pairs = {name for name, modules in places.items()
             if sorted(modules) == [f"connectors.agencies.{name}", f"connectors.simulators.{name}"]}
    shared = {name: modules for name, modules in places.items()
              if len(modules) > 1 and name not in SHARED_NAMES and name not in FIRST_PARTY and name not in pairs}
    assert not shared, f"one name, several modules (rename, or say why in SHARED_NAMES): {shared}"
    assert not set(SHARED_NAMES) - {name for name, modules in places.items() if len(modules) > 1}, \
        "SHARED_NAMES lists a name that no longer names two modules"


# Who keeps something in a session's `info`, and what: nothing else travels with a transaction.
SESSION_INFO = {
    "engine.services.outbox": "the service calls a transaction parked, handed over after its commit",
    "engine.services.event_delivery": "how many instances one change's thrown events reached (a bound, not calls)",
    "engine.services.notifications": "the cases a transaction changed and the messages it wrote, sent after its commit",
    "engine.services.rehearsal": "the rehearsal a transaction runs in: which changes' outcomes it already knows",
}


def test_a_transaction_carries_service_calls_only_through_the_outbox() -> None:
    """New calls once travelled in `session.info["new_calls"]`, written and read in several
    modules; now `engine.services.outbox` alone knows where they are kept."""
    found = sorted(f"{module}:{node.lineno}" for module, tree in _sources() if module not in SESSION_INFO
                   for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "info"
                   and "session" in ast.unparse(node.value).lower())
    assert not found, "session.info used outside the outbox:\n" + "\n".join(found)


def test_one_way_to_load_an_instance_for_a_reader() -> None:
    """Who may see an instance is applied by `engine.services.queries` (and defined in
    `engine.services.access`); a second loader would be a second place for the rule."""
    found = sorted(f"{module}:{node.lineno}" for module, tree in _sources()
                   if module not in ("engine.services.queries", "engine.services.access")
                   for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and ast.unparse(node.func).endswith("visible_instances"))
    assert not found, "\n".join(found)
