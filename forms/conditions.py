"""Evaluating the condition objects of ``ui.hidden_when`` (their shape is in `forms.model`).

Logic is three-valued, like FEEL's: a comparison with a missing value, or between values of different
kinds, is unknown (None), and only True hides a field, as in Camunda Forms.

Why this runs in the serving process and not in a model worker (engine/core/worker_pool.py), unlike
scripts and timer expressions: a condition is data, not code. `forms.feel` translates the modeler's
text once, at deploy, into these objects (comparisons of one field with one literal, ``not``, ``all``,
``any``: no functions, no arithmetic, no ranges, no loops; at most `forms.feel.MAX_LENGTH` characters
and `forms.feel.MAX_NESTING` levels each, and a `MAX_FORM_COST` for one form), and evaluating one
reads a few dictionary keys. Nothing here allocates more than a copy of the submission (bounded by
PANJEREH_MAX_DATA_BYTES) and the set of hidden paths.

What was left unbounded was time: a form's conditions are evaluated for every item of a repeated
group, again after each field a condition hides, and the submission decides how many items there
are. Unbounded, a 20,000-term condition over 5,000 list items took three minutes in one call, and a
chain of 300 conditions, each hiding the next, over 100 items twelve seconds. So:

- a condition is evaluated again only when a field it reads was hidden since (the result is the same
  as evaluating every condition again until nothing changes, which is what this module means), and
- every call of `hide` has a budget of `MAX_STEPS` steps (about a tenth of a second); needing more
  raises `ConditionsTooCostly`, which validation turns into an error on the submission and renderers
  into showing every field.

A model worker would stop the same forms only by its wall-clock kill, after PANJEREH_MODEL_WALL_SECONDS,
while adding a round trip to every page and holding a worker that instance changes wait for; the
budget answers in a tenth of a second, deterministically. tests/benchmarks/form_conditions_pool.py
measures both ways.
"""

from __future__ import annotations

import copy
import heapq
import math
from collections import ChainMap, defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from forms.model import Condition

ConcretePath = tuple[str | int, ...]
# Steps (condition nodes evaluated, keys walked, places listed) one `hide` may take, each about a
# microsecond. 50 conditions testing three fields each, over a repeated group of 100 items, take 40,000.
MAX_STEPS = 100_000
# What all the hide conditions of one form may cost together (`cost`), checked at deploy (`forms.ui`):
# reading them and evaluating each once then takes at most a fifth of `MAX_STEPS`.
MAX_FORM_COST = 10_000


class ConditionsTooCostly(ValueError):
    """Evaluating a form's hide conditions on this submission would take more than `MAX_STEPS`."""


class _Budget:
    def __init__(self, steps: float) -> None:
        self.left = steps

    def spend(self, steps: int = 1) -> None:
        self.left -= steps
        if self.left < 0:
            raise ConditionsTooCostly(
                f"the form's conditions would need more than {MAX_STEPS:,} steps for this submission "
                "(too many conditions, or a repeated group with too many items)")


_NUMBER = (int, float)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _NUMBER):
        return "number"
    return "string" if isinstance(value, str) else "other"


def lookup(path: str, scope: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """The value at a field path, read from `scope` when it has the first key, else from `root`."""
    names = path.split(".")
    node: Any = scope if names[0] in scope else root
    for name in names:
        if not isinstance(node, Mapping) or name not in node:
            return None
        node = node[name]
    return node


def _compare(op: str, value: Any, expected: Any) -> bool | None:
    if op in ("eq", "ne"):
        if value is None or expected is None:
            same = value is None and expected is None
        elif _kind(value) != _kind(expected):
            return None
        else:
            same = value == expected
        return same if op == "eq" else not same
    if value is None or expected is None or _kind(value) != _kind(expected) or _kind(value) not in ("number",
                                                                                                      "string"):
        return None
    if op == "lt":
        return bool(value < expected)
    if op == "le":
        return bool(value <= expected)
    if op == "gt":
        return bool(value > expected)
    return bool(value >= expected)


def evaluate(condition: Condition, scope: Mapping[str, Any], root: Mapping[str, Any]) -> bool | None:
    """True, False, or None when unknown. Costs `cost(condition)` steps at most."""
    path = condition.get("field")
    if path is not None:  # the common case first: most nodes are comparisons
        value = lookup(path, scope, root)
        if condition["op"] == "true":
            return value if isinstance(value, bool) else None
        return _compare(condition["op"], value, condition.get("value"))
    if "all" in condition:
        unknown = False
        for part in condition["all"]:
            result = evaluate(part, scope, root)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True
    if "any" in condition:
        unknown = False
        for part in condition["any"]:
            result = evaluate(part, scope, root)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False
    result = evaluate(condition["not"], scope, root)
    return None if result is None else not result


def occurrences(data: dict[str, Any], path: str) -> list[tuple[dict[str, Any], str, ConcretePath]]:
    """Every place a field path can hold a value in `data`: the holding object, the key, the concrete path.

    Places are listed whether or not the key is present, so a missing required field can be matched too.
    """
    return _occurrences(data, path, _Budget(math.inf))


def _occurrences(data: dict[str, Any], path: str,
                 budget: _Budget) -> list[tuple[dict[str, Any], str, ConcretePath]]:
    *parents, last = path.split(".")
    places: list[tuple[dict[str, Any], ConcretePath]] = [(data, ())]
    for name in parents:
        budget.spend(len(places))
        deeper: list[tuple[dict[str, Any], ConcretePath]] = []
        for node, concrete in places:
            child = node.get(name)
            if isinstance(child, dict):
                deeper.append((child, (*concrete, name)))
            elif isinstance(child, list):
                budget.spend(len(child))
                deeper += [(item, (*concrete, name, i)) for i, item in enumerate(child) if isinstance(item, dict)]
        places = deeper
    budget.spend(len(places))
    return [(node, last, (*concrete, last)) for node, concrete in places]


def hide(data: dict[str, Any], hidden_when: Mapping[str, Condition],
         variables: Mapping[str, Any] | None = None) -> set[ConcretePath]:
    """Remove every hidden field from `data` (in place); the concrete paths that are hidden.

    A condition may read a process variable the form does not ask for (as in Camunda); `variables`
    supplies those, the submission winning where both have a name. Repeats until nothing changes, since
    hiding one field can hide another whose condition reads it.

    Raises:
        ConditionsTooCostly: that would take more than `MAX_STEPS`; `data` may have lost some fields.
    """
    root: Mapping[str, Any] = ChainMap(data, dict(variables or {}))
    entries = list(hidden_when.items())
    budget = _Budget(MAX_STEPS)
    readers: defaultdict[str, list[int]] = defaultdict(list)
    costs = []
    for index, (_, condition) in enumerate(entries):
        costs.append(cost(condition))
        budget.spend(costs[-1])
        for name in set(_names(condition)):
            readers[name].append(index)
    # Passes over the conditions in their order until one hides nothing. A lookup's answer changes
    # only when a key named in its path is removed, so a pass skips the conditions that read no field
    # hidden since they last ran: they would come out as before. `queued` are the ones to run, this
    # pass (after the current one) or the next.
    queued = [True] * len(entries)
    this_pass, next_pass = list(range(len(entries))), list[int]()
    hidden: set[ConcretePath] = set()
    while this_pass:
        index = heapq.heappop(this_pass)
        queued[index] = False
        path, condition = entries[index]
        for holder, key, concrete in _occurrences(data, path, budget):
            if concrete in hidden:
                continue
            budget.spend(costs[index])  # before the work: the budget is never overrun
            if evaluate(condition, holder, root) is True:
                hidden.add(concrete)
                holder.pop(key, None)
                marked = readers.get(key, ())
                budget.spend(len(marked))
                for reader in marked:
                    if not queued[reader]:
                        queued[reader] = True
                        heapq.heappush(this_pass if reader > index else next_pass, reader)
        if not this_pass:
            this_pass, next_pass = next_pass, []
    return hidden


def _parts(condition: Condition) -> list[Condition]:
    if "all" in condition:
        return list(condition["all"])
    if "any" in condition:
        return list(condition["any"])
    return [condition["not"]] if "not" in condition else []


def _names(condition: Condition) -> Iterator[str]:
    """Every key a condition's lookups pass through."""
    parts = _parts(condition)
    if not parts and "field" in condition:
        yield from str(condition["field"]).split(".")
    for part in parts:
        yield from _names(part)


def cost(condition: Condition) -> int:
    """What evaluating `condition` once may cost, in steps of `MAX_STEPS`: a step per node, and one
    per key a lookup walks past the first."""
    parts = _parts(condition)
    if not parts and "field" in condition:
        return 1 + str(condition["field"]).count(".")
    return 1 + sum(cost(part) for part in parts)


def hidden_fields(data: Mapping[str, Any], hidden_when: Mapping[str, Condition],
                  variables: Mapping[str, Any] | None = None) -> set[str]:
    """The dotted concrete paths (``children.0.note``) hidden in `data`, which is left unchanged.

    For renderers deciding what to show; validation uses `hide`. When the conditions cost more than
    `MAX_STEPS` on this data, nothing is hidden: every field is shown, and validation refuses the
    submission saying why.
    """
    try:
        hidden = hide(copy.deepcopy(dict(data)), hidden_when, variables)
    except ConditionsTooCostly:
        return set()
    return {".".join(str(part) for part in path) for path in hidden}
