"""The sandbox for untrusted Python in scripts, conditions, DMN cells and service parameters.

Agency analysts write this code, so it is treated as hostile. SpiffWorkflow runs it through
``PythonScriptEngine(environment=...)``; `SandboxedEnvironment` is that environment.

Why an own AST allow-list instead of RestrictedPython: RestrictedPython starts from the whole
language and takes parts away, and leaves the important policy (getattr, getitem, write and
print hooks, builtins) to configuration, which is where SpiffArena went wrong (s09 reaches
``os.popen`` through its ``safe_globals`` setup). We would still have to write the CPU limit,
the size guards, the exception handling and the attribute tables ourselves, so what remains
of it is a large dependency between us and the code we run. An allow-list of node types,
a rewrite into named guard calls and per-type attribute tables fit in a few small files
that can be audited in one sitting; anything not listed is refused.

The layers, each covering what the previous cannot:

1. `sandbox_ast`: parse (identifiers come out NFKC-normalized), refuse every node type not
   listed and every name, attribute, keyword or parameter starting with ``_``; rewrite
   into guard calls the attribute reads, the operators that grow or hash (``+ * ** << %
   | & ^ -``), unpacking (``[*a]``, ``{**d}``, ``f(*a, **k)``), slice assignment,
   f-strings, the values that comparisons and hashing walk (compared operands, subscript
   keys, set elements, dict keys), ``except`` and ``raise``. Cached.
2. `sandbox_guards`, `sandbox_builtins`, `sandbox_formatting`: builtins are an allow-list,
   every other builtin name is a stub that refuses when used; attributes are readable only
   from per-type tables (exact type, so modules, functions, frames, code, generators and
   subclasses get nothing); every operation, conversion, method and formatting that can
   outgrow its inputs, or hash or compare a value, is measured first (`sandbox_sizes`:
   items, characters and depth, shared values counted each time they are reached) and
   refused over `SandboxLimits` before the C code runs.
3. `sandbox_run`: a line tracer (`Run`) enforces CPU time per thread, call depth, and how
   much the process's memory may grow during the call (loops that allocate); guards that
   drive C loops over script values (``zip``, ``map``...) reach the same checks. Sandbox
   errors cannot be caught: ``finally`` and bare ``except`` are refused, every ``except``
   block re-raises them first, and the first violation of a run is re-raised at the end.
4. Here: expressions may not return functions or lazy iterators (the host would run them
   outside the tracer), nor values too big or too deep to store; `execute` runs on a deep
   copy and commits to the task data only when the result is plain data within
   ``max_data_bytes``.

What protects the server: a change of an instance runs in a model worker process
(engine/core/worker_pool.py, engine/core/isolated_changes.py) with an address-space limit
(PANJEREH_MODEL_MEMORY_MB) and a wall-clock kill (PANJEREH_MODEL_WALL_SECONDS), under the
limits above. A single C operation cannot be interrupted by the tracer; the guards bound the
ones they know (every growth path above, and comparing, hashing and printing values that
share sub-objects), and one that slips past them holds only its worker until the kill.
Timer start expressions run there too (engine/core/timer_starts.py). Form hide conditions
are not Python and never reach this sandbox: they are condition objects evaluated under a step
budget in the serving process (forms/conditions.py). With PANJEREH_MODEL_WORKERS=0 everything
runs in the serving process, and these in-process limits are the only ones.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from types import CodeType, ModuleType
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.core.cron import CronProblem, cron_to_iso
from engine.core.sandbox_ast import Mode, compile_checked
from engine.core.sandbox_guards import Guards
from engine.core.sandbox_run import Run, SandboxLimits, SandboxTimeout, SandboxViolation, Unavailable, json_size
from engine.core.sandbox_sizes import NESTED, shape

__all__ = ["SandboxLimits", "SandboxTimeout", "SandboxViolation", "SandboxedEnvironment", "check_source"]


def check_source(source: str, mode: Mode, limits: SandboxLimits | None = None) -> None:
    """Check `source` without running it (for deploy-time validation).

    Raises:
        SyntaxError: the text is not Python.
        SandboxViolation: the text uses something the sandbox refuses.
    """
    compile_checked(source, mode, limits or SandboxLimits())


def _is_data(value: Any) -> bool:
    # Functions, classes and lazy iterators would run script code later, outside the
    # tracer, if the host touched them; like TaskDataEnvironment, they never reach task data.
    return not (callable(value) or isinstance(value, (ModuleType, Iterator)))


def _size(length: int) -> str:
    return f"{length / 1e6:.1f} MB" if length >= 100_000 else f"{length:,} bytes"


DATA_OBJECT = "bpmn_data_object"
# A Camunda cron cycle, as the ISO repetition starting at its next firing when the timer is set.
CRON_CYCLE = "cron_cycle"


def _cron_cycle(text: Any) -> str:
    if not isinstance(text, str) or len(text) > 200:
        raise SandboxViolation("cron_cycle() takes a cron expression")
    try:
        return cron_to_iso(text)
    except CronProblem as err:
        raise SandboxViolation(f"cron cycle '{text}': {err}") from err


_NAMESPACE_VIEWS = ("vars", "locals", "globals")


def _variables(namespace: Mapping[str, Any], hidden: frozenset[str], *args: Any) -> dict[str, Any]:
    """What vars(), locals() and globals() give a script: its variables, in a new dict."""
    if args:
        raise SandboxViolation("vars(), locals() and globals() take no argument here: they give the "
                               "script's own variables")
    return {name: value for name, value in namespace.items()
            if name not in hidden and not name.startswith("_") and _is_data(value)}


def _offer_views(namespace: dict[str, Any], hidden: frozenset[str]) -> None:
    # Only the no-argument forms: vars(obj) would read obj.__dict__, which the sandbox forbids.
    # A closure, not functools.partial: a partial's repr would write out the whole namespace.
    def view(*args: Any) -> dict[str, Any]:
        return _variables(namespace, hidden, *args)

    for name in _NAMESPACE_VIEWS:
        namespace.setdefault(name, view)


def _data_object(variables: Mapping[str, Any]) -> Callable[[Any], Any]:
    def data_object(name: Any) -> Any:
        """A process variable by name, or None when it is not set (XPath's empty data object)."""
        return variables.get(name) if isinstance(name, str) and not name.startswith("_") else None

    return data_object


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """SpiffWorkflow script environment that runs task code in the sandbox.

    Reentrant and thread-safe: per-call state lives in a `Run` on the calling thread, and the
    shared parts (compiled code, guards, builtins) are never mutated.
    """

    def __init__(self, limits: SandboxLimits | None = None, helpers: Mapping[str, Any] | None = None) -> None:
        """Create the environment.

        Args:
            limits: resource limits; the defaults of `SandboxLimits` when None.
            helpers: extra trusted functions offered to scripts by name (task data of the same
                name wins, as for builtins).
        """
        super().__init__()
        self.limits = limits or SandboxLimits()
        offered = dict(helpers or {})
        hidden = [name for name in offered if not name.isidentifier() or name.startswith("_")]
        if hidden:
            raise ValueError(f"helper names must be identifiers not starting with '_': {hidden}")
        guards = Guards(self.limits, offered)
        self._expression_names = guards.namespace(expression=True)
        self._script_names = guards.namespace(expression=False)
        self._expression_hidden = frozenset(self._expression_names)
        self._script_hidden = frozenset(self._script_names)

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        """Value of `expression` with task data (and `external_context`) as variables.

        Raises:
            SyntaxError: the text is not Python.
            SandboxViolation: refused, or over a limit (`SandboxTimeout` for CPU time).
        """
        code = compile_checked(expression, "eval", self.limits)
        variables = {**(external_context or {}), **context}
        namespace = {**variables, **self._expression_names}
        namespace.setdefault(DATA_OBJECT, _data_object(variables))
        namespace.setdefault(CRON_CYCLE, _cron_cycle)
        _offer_views(namespace, self._expression_hidden)
        result = self._run(eval, code, namespace)
        if isinstance(result, Unavailable):
            result.refuse()
        if not _is_data(result):
            raise SandboxViolation("an expression must produce a value, not a function or a lazy "
                                   "iterator; wrap it in list(...)")
        # The host stores, copies and compares what an expression gives: it must be as
        # bounded as what a script may leave in the task data.
        self._within(result, "the expression's value")
        return result

    def _within(self, value: Any, what: str) -> None:
        if type(value) not in NESTED and not isinstance(value, BaseException):
            return
        limit = 10 * self.limits.max_data_bytes
        found = shape(value, limit, self.limits.max_data_depth, text=True)
        if found.nodes > limit or found.chars > limit:
            raise SandboxViolation(f"{what} would be more than {_size(limit)}, over the limit")
        if found.depth > self.limits.max_data_depth:
            raise SandboxViolation(f"{what} is nested more than {self.limits.max_data_depth} levels deep")

    def _run(self, runner: Callable[[CodeType, dict[str, Any]], Any], code: CodeType,
             namespace: dict[str, Any]) -> Any:
        try:
            return Run(self.limits).call(runner, code, namespace)
        except SandboxViolation:
            raise
        except Exception as error:
            # The host writes a script's error into logs and incidents: its text must be as
            # bounded as the script's values (raise ValueError(shared) would be exponential).
            chained: BaseException | None = error
            for _ in range(10):
                if chained is None:
                    break
                self._within(chained, f"the {type(chained).__name__} the script raised")
                chained = chained.__cause__ or chained.__context__
            raise

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run `script` and write the variables it leaves into `context` (the task data).

        Functions, modules and names from `external_context` are not written. On any error
        `context` is left exactly as it was.

        Raises:
            SyntaxError: the text is not Python.
            SandboxViolation: refused, over a limit, or the resulting data is too large.
        """
        code = compile_checked(script, "exec", self.limits)
        external = dict(external_context or {})
        namespace = {**copy.deepcopy(context), **external, **self._script_names}
        _offer_views(namespace, self._script_hidden)
        self._run(exec, code, namespace)
        hidden = self._script_names.keys() | external.keys()
        updated = {name: value for name, value in namespace.items() if name not in hidden and _is_data(value)}
        updated.update((name, context[name]) for name in hidden & context.keys())
        limit = self.limits.max_data_bytes
        size = json_size(updated, 10 * limit, self.limits.max_data_depth)
        if size > limit:
            amount = f"more than {_size(10 * limit)}" if size > 10 * limit else _size(size)
            raise SandboxViolation(f"task data would be {amount}, over the {_size(limit)} limit")
        context.clear()
        context.update(updated)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        """Always refused: service tasks are run by the connector layer, not by scripts."""
        raise SandboxViolation("scripts cannot call services; service tasks go through the connectors")
