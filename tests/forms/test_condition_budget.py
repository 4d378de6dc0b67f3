"""Hide conditions are evaluated in the serving process, so what they may cost is bounded.

A condition is data (forms/conditions.py says why that is enough to keep it out of the model
workers): what is left to bound is time. Conditions run again only after a field they read
was hidden, which gives the same fields as running all of them until nothing changes; every
`hide` has a budget of steps, and a submission that would need more is refused with a clear
error, while the page shows every field. Forms whose conditions are too large are refused at
deploy. No test here measures time: each counts steps against the budget.
"""

from __future__ import annotations

import copy
import random
from collections import ChainMap
from typing import Any

import pytest

from forms.conditions import MAX_FORM_COST, MAX_STEPS, ConditionsTooCostly, evaluate, hidden_fields, hide, occurrences
from forms.feel import MAX_LENGTH, FeelError, translate
from forms.formjs import formjs_form
from forms.messages import message_for
from forms.model import Condition, FormDefinitionError
from forms.validate import validate_submission


def _every_condition_until_nothing_changes(data: dict[str, Any], hidden_when: dict[str, Condition],
                                           variables: dict[str, Any]) -> set[tuple[str | int, ...]]:
    """What `hide` means, written the plain way: every condition, every pass."""
    root = ChainMap(data, variables)
    hidden: set[tuple[str | int, ...]] = set()
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


NAMES = ["a", "b", "c", "d", "e", "items.a", "items.b", "items.f", "items"]


def _random_condition(rng: random.Random, depth: int = 0) -> Condition:
    roll = rng.random()
    if depth < 3 and roll < 0.3:
        return {rng.choice(["all", "any"]): [_random_condition(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    if depth < 3 and roll < 0.4:
        return {"not": _random_condition(rng, depth + 1)}
    field = rng.choice(["a", "b", "c", "d", "e", "f", "items.a", "v"])
    op = rng.choice(["eq", "ne", "lt", "gt", "true"])
    if op == "true":
        return {"field": field, "op": "true"}
    return {"field": field, "op": op, "value": rng.choice([None, 1, 2, "x", True])}


def _random_value(rng: random.Random) -> Any:
    return rng.choice([None, 1, 2, 3, "x", "y", True, False])


def test_hiding_gives_what_running_every_condition_until_nothing_changes_gives() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        hidden_when = {path: _random_condition(rng) for path in rng.sample(NAMES, rng.randint(1, len(NAMES)))}
        data: dict[str, Any] = {name: _random_value(rng) for name in "abcde" if rng.random() < 0.8}
        if rng.random() < 0.7:
            data["items"] = [{name: _random_value(rng) for name in "abf" if rng.random() < 0.7}
                             for _ in range(rng.randint(0, 4))]
        variables = {"v": _random_value(rng), "f": _random_value(rng)}
        expected_data = copy.deepcopy(data)
        expected = _every_condition_until_nothing_changes(expected_data, hidden_when, variables)
        assert hide(data, hidden_when, variables) == expected, (hidden_when, data)
        assert data == expected_data


def test_a_field_hidden_in_a_later_pass_is_seen_by_the_conditions_after_it_in_that_pass() -> None:
    # Hiding is not monotone ("b is v" stops holding once b is hidden), so the order matters:
    # in the second pass `a` goes, then `b` (it reads a), and only then is `c` asked about b.
    hidden_when: dict[str, Condition] = {
        "a": {"field": "d", "op": "eq", "value": None},
        "b": {"field": "a", "op": "eq", "value": None},
        "c": {"all": [{"field": "b", "op": "eq", "value": "v"}, {"field": "d", "op": "eq", "value": None}]},
        "d": {"all": []},
    }
    data = {"a": 1, "b": "v", "c": 1, "d": 1}
    assert _every_condition_until_nothing_changes(copy.deepcopy(data), hidden_when, {}) == {("a",), ("b",), ("d",)}
    assert hide(data, hidden_when) == {("a",), ("b",), ("d",)} and data == {"c": 1}


def test_a_chain_of_conditions_each_hiding_the_next_is_evaluated_once_per_link() -> None:
    # Each pass of "every condition again" would hide one more link: 1,000 passes of 1,000
    # conditions over 10 items (10 million evaluations). Run only when a field they read goes,
    # they fit the budget.
    links = 1000
    hidden_when = {f"items.f{i}": {"field": f"f{i + 1}", "op": "eq", "value": None} for i in range(links)}
    data = {"items": [{f"f{i}": 1 for i in range(links)} for _ in range(10)]}
    assert len(hide(data, hidden_when)) == links * 10
    assert data == {"items": [{}] * 10}


def _hostile_form(terms: int, fields: int) -> dict[str, Any]:
    """A Camunda form of a repeated group whose fields each hide on a long `or` of other fields."""
    hide_when = "=" + " or ".join(['a0 = "1"'] * terms)
    assert len(hide_when) <= MAX_LENGTH
    return {"type": "default", "id": "hostile", "components": [
        {"type": "dynamiclist", "path": "items", "label": "Items", "components": [
            *({"type": "textfield", "key": f"v{j}", "label": f"V{j}", "conditional": {"hide": hide_when}}
              for j in range(fields)),
            {"type": "textfield", "key": "a0", "label": "A0"}]}]}


def test_a_submission_that_makes_the_conditions_too_costly_is_refused_with_the_reason() -> None:
    form = formjs_form(_hostile_form(terms=300, fields=32), "hostile")  # 9,632 parts: deployable
    one = {"items": [{"v0": "x", "a0": "2"}]}
    kept, errors = validate_submission(form, one)
    assert errors == [] and kept == one
    assert validate_submission(form, {"items": [{"v0": "x", "a0": "1"}]})[0] == {"items": [{"a0": "1"}]}

    many = {"items": [{"v0": "x", "a0": "2"}] * 20}  # 20 items x 32 conditions x 301 steps
    with pytest.raises(ConditionsTooCostly, match=f"more than {MAX_STEPS:,} steps"):
        hide(copy.deepcopy(many), form["ui"]["hidden_when"])
    _, [error] = validate_submission(form, many)
    assert (error.field, error.code) == ("", "conditions-too-costly")
    assert "repeated items" in message_for(error, "en") and "تکراری" in message_for(error, "fa")
    # A page of the same answers shows every field rather than fail.
    assert hidden_fields(many, form["ui"]["hidden_when"]) == set()


def test_one_condition_over_many_items_stops_at_the_budget() -> None:
    condition = translate("=" + " or ".join(['a = "x"'] * 300) + " or b = true")
    many = {"items": [{"v": 1, "b": True} for _ in range(100_000)]}
    with pytest.raises(ConditionsTooCostly):
        hide(many, {"items.v": condition})
    assert all("v" in item for item in many["items"]), "refused on counting the items, before evaluating one"
    some = {"items": [{"v": 1, "b": True} for _ in range(500)]}
    with pytest.raises(ConditionsTooCostly):
        hide(some, {"items.v": condition})
    assert 0 < sum("v" not in item for item in some["items"]) < 500, "stopped part-way"


def test_forms_whose_conditions_are_too_large_are_refused_at_deploy() -> None:
    with pytest.raises(FormDefinitionError, match=f"at most {MAX_FORM_COST:,}"):
        formjs_form(_hostile_form(terms=300, fields=34), "hostile")
    with pytest.raises(FeelError, match=f"at most {MAX_LENGTH:,}"):
        translate("=" + " or ".join(["a0 = 1"] * 1000))
    with pytest.raises(FormDefinitionError, match=r"hide condition '=x = \"y{74}…': the expression is 4,007 char"):
        formjs_form({"type": "default", "components": [{"type": "textfield", "key": "x", "label": "X",
                     "conditional": {"hide": "=x = \"" + "y" * MAX_LENGTH + "\""}}]}, "long")
