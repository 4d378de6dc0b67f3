"""Hide conditions: the FEEL subset Camunda Forms uses, translated into data and evaluated like FEEL."""

from __future__ import annotations

from typing import Any

import pytest

from forms.conditions import evaluate, hidden_fields, hide
from forms.feel import FeelError, translate


@pytest.mark.parametrize(("expression", "condition"), [
    ('=field = "x"', {"field": "field", "op": "eq", "value": "x"}),
    ("=not(flag)", {"not": {"field": "flag", "op": "true"}}),
    ("=flag", {"field": "flag", "op": "true"}),
    ("=amount > 100", {"field": "amount", "op": "gt", "value": 100}),
    ("=amount <= 2.5", {"field": "amount", "op": "le", "value": 2.5}),
    ("=100 < amount", {"field": "amount", "op": "gt", "value": 100}),
    ("=count != -1", {"field": "count", "op": "ne", "value": -1}),
    ("=x = null", {"field": "x", "op": "eq", "value": None}),
    ("=x = true", {"field": "x", "op": "eq", "value": True}),
    ("=applicant.age >= 18", {"field": "applicant.age", "op": "ge", "value": 18}),
    ('= a = "x" and b or not(c)', {"any": [{"all": [{"field": "a", "op": "eq", "value": "x"},
                                                     {"field": "b", "op": "true"}]},
                                            {"not": {"field": "c", "op": "true"}}]}),
    ("=(a or b) and c", {"all": [{"any": [{"field": "a", "op": "true"}, {"field": "b", "op": "true"}]},
                                 {"field": "c", "op": "true"}]}),
    ('=name = "علی \\"ب\\""', {"field": "name", "op": "eq", "value": 'علی "ب"'}),
])
def test_translate(expression: str, condition: dict[str, Any]) -> None:
    assert translate(expression) == condition


@pytest.mark.parametrize(("expression", "complaint"), [
    ("amount > 1", "must be a FEEL expression starting with '='"),
    ("=", "empty"),
    ("=amount + 1 > 3", "unexpected '+'"),
    ('=contains(name, "x")', "function 'contains()' is not supported"),
    ("=a in [1, 2]", "unexpected 'in'"),
    ("=a between 1 and 3", "unexpected 'between'"),
    ("=a = b", "between one field and one literal"),
    ("=1 = 1", "between one field and one literal"),
    ("=true", "not only a literal"),
    ("=not(a", "ends too early"),
    ("=this.x = 1", "'this.x' is not supported"),
    ("=a = 1 = 2", "unexpected '='"),
])
def test_outside_the_subset_is_refused(expression: str, complaint: str) -> None:
    with pytest.raises(FeelError) as raised:
        translate(expression)
    assert complaint in str(raised.value)


@pytest.mark.parametrize(("condition", "data", "result"), [
    ({"field": "a", "op": "eq", "value": "x"}, {"a": "x"}, True),
    ({"field": "a", "op": "eq", "value": "x"}, {}, False),
    ({"field": "a", "op": "ne", "value": "x"}, {}, True),
    ({"field": "a", "op": "eq", "value": 1}, {"a": True}, None),
    ({"field": "a", "op": "gt", "value": 100}, {"a": 150}, True),
    ({"field": "a", "op": "gt", "value": 100}, {"a": "150"}, None),
    ({"field": "a", "op": "gt", "value": 100}, {}, None),
    ({"field": "a", "op": "lt", "value": "m"}, {"a": "b"}, True),
    ({"field": "a", "op": "true"}, {"a": "yes"}, None),
    ({"not": {"field": "a", "op": "true"}}, {"a": False}, True),
    ({"not": {"field": "a", "op": "true"}}, {}, None),
    ({"all": [{"field": "a", "op": "true"}, {"field": "b", "op": "true"}]}, {"a": False}, False),
    ({"all": [{"field": "a", "op": "true"}, {"field": "b", "op": "true"}]}, {"a": True}, None),
    ({"any": [{"field": "a", "op": "true"}, {"field": "b", "op": "true"}]}, {"b": True}, True),
    ({"any": [{"field": "a", "op": "true"}, {"field": "b", "op": "true"}]}, {"a": False}, None),
    ({"all": []}, {}, True),
    ({"field": "p.age", "op": "ge", "value": 18}, {"p": {"age": 18}}, True),
])
def test_three_valued_logic_like_feel(condition: dict[str, Any], data: dict[str, Any], result: bool | None) -> None:
    assert evaluate(condition, data, data) is result


def test_a_field_in_a_list_item_reads_its_item_first() -> None:
    data: dict[str, Any] = {"kind": "x", "items": [{"kind": "company", "id": "1"}, {"kind": "person", "id": "2"}]}
    hidden = hide(data, {"items.id": {"field": "kind", "op": "eq", "value": "person"}})
    assert hidden == {("items", 1, "id")}
    assert data["items"] == [{"kind": "company", "id": "1"}, {"kind": "person"}]


def test_hidden_fields_leaves_the_data_alone() -> None:
    data = {"flag": False, "detail": "x", "more": "y"}
    conditions = {"detail": {"not": {"field": "flag", "op": "true"}},
                  "more": {"field": "detail", "op": "eq", "value": None}}
    assert hidden_fields(data, conditions) == {"detail", "more"}, "hiding a field can hide one that reads it"
    assert data == {"flag": False, "detail": "x", "more": "y"}


def test_a_condition_may_read_a_process_variable() -> None:
    conditions = {"discount_code": {"field": "customer_type", "op": "ne", "value": "veteran"}}
    assert hidden_fields({"discount_code": "V1"}, conditions, {"customer_type": "citizen"}) == {"discount_code"}
    assert hidden_fields({"discount_code": "V1"}, conditions, {"customer_type": "veteran"}) == set()
    assert hidden_fields({"discount_code": "V1"}, conditions) == {"discount_code"}, "missing is not 'veteran'"
    assert hidden_fields({"discount_code": "V1", "customer_type": "veteran"}, conditions,
                         {"customer_type": "citizen"}) == set(), "the submission wins over the variables"
