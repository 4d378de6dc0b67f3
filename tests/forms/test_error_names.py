"""Every question of the catalogue's forms names itself for its error messages, in both
languages, so no message is assembled from a question's title."""

from __future__ import annotations

import json
from pathlib import Path

from forms.validate import error_names

ROOT = Path(__file__).resolve().parents[2]


def test_every_field_a_person_answers_has_an_error_name() -> None:
    forms = sorted((ROOT / "processes").glob("*/*.schema.json"))
    assert forms
    for path in forms:
        schema = json.loads(path.read_text(encoding="utf-8"))
        names = error_names(schema)
        for field, node in schema.get("properties", {}).items():
            if node.get("readOnly"):
                continue
            assert set(names.get(field) or {}) == {"fa", "en"}, f"{path.name}: {field} has no x-error-name-fa/-en"


def test_an_error_name_is_read_from_the_schema() -> None:
    schema = {"type": "object", "properties": {"shop": {"type": "string", "title": "What is your shop called?",
                                                        "x-error-name-fa": "نام مغازه",
                                                        "x-error-name-en": "your shop's name"}}}
    assert error_names(schema) == {"shop": {"fa": "نام مغازه", "en": "your shop's name"}}
