"""Evaluating the condition objects of ``ui.hidden_when`` (their shape is in `forms.model`).

Logic is three-valued, like FEEL's: a comparison with a missing value, or between values of different
kinds, is unknown (None), and only True hides a field, as in Camunda Forms.
"""

from __future__ import annotations

import copy
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from forms.model import Condition

ConcretePath = tuple[str | int, ...]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
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
    """True, False, or None when unknown."""
    if "all" in condition:
        results = [evaluate(part, scope, root) for part in condition["all"]]
        return False if False in results else (None if None in results else True)
    if "any" in condition:
        results = [evaluate(part, scope, root) for part in condition["any"]]
        return True if True in results else (None if None in results else False)
    if "not" in condition:
        result = evaluate(condition["not"], scope, root)
        return None if result is None else not result
    value = lookup(condition["field"], scope, root)
    if condition["op"] == "true":
        return value if isinstance(value, bool) else None
    return _compare(condition["op"], value, condition.get("value"))


def occurrences(data: dict[str, Any], path: str) -> list[tuple[dict[str, Any], str, ConcretePath]]:
    """Every place a field path can hold a value in `data`: the holding object, the key, the concrete path.

    Places are listed whether or not the key is present, so a missing required field can be matched too.
    """
    *parents, last = path.split(".")
    places: list[tuple[dict[str, Any], ConcretePath]] = [(data, ())]
    for name in parents:
        deeper: list[tuple[dict[str, Any], ConcretePath]] = []
        for node, concrete in places:
            child = node.get(name)
            if isinstance(child, dict):
                deeper.append((child, (*concrete, name)))
            elif isinstance(child, list):
                deeper += [(item, (*concrete, name, i)) for i, item in enumerate(child) if isinstance(item, dict)]
        places = deeper
    return [(node, last, (*concrete, last)) for node, concrete in places]


def hide(data: dict[str, Any], hidden_when: Mapping[str, Condition],
         variables: Mapping[str, Any] | None = None) -> set[ConcretePath]:
    """Remove every hidden field from `data` (in place); the concrete paths that are hidden.

    A condition may read a process variable the form does not ask for (as in Camunda); `variables`
    supplies those, the submission winning where both have a name. Repeats until nothing changes, since
    hiding one field can hide another whose condition reads it.
    """
    root: Mapping[str, Any] = ChainMap(data, dict(variables or {}))
    hidden: set[ConcretePath] = set()
    changed = True
    while changed:
        changed = False
        for path, condition in hidden_when.items():
            for holder, key, concrete in occurrences(data, path):
                if concrete not in hidden and evaluate(condition, holder, root) is True:
                    hidden.add(concrete)
                    holder.pop(key, None)
                    changed = True
    return hidden


def hidden_fields(data: Mapping[str, Any], hidden_when: Mapping[str, Condition],
                  variables: Mapping[str, Any] | None = None) -> set[str]:
    """The dotted concrete paths (``children.0.note``) hidden in `data`, which is left unchanged.

    For renderers deciding what to show; validation uses `hide`.
    """
    return {".".join(str(part) for part in path)
            for path in hide(copy.deepcopy(dict(data)), hidden_when, variables)}
