"""The canonical form model: what every dialect is translated into, and all a client needs to render a task.

A form model is a JSON-serialisable dict, stored with each human task::

    {
      "source": "camunda:formData" | "camunda-forms" | "spiffworkflow:formJsonSchemaFilename"
                | "camunda:formKey" | "zeebe:formKey" | "zeebe:externalReference" | "none",
      "ref":    where the definition came from (file name, form id, embedded form id or external key);
                absent for formData and "none",
      "schema": JSON Schema 2020-12 of the submission; None when the server knows the form only by an
                external key (it then cannot check fields, and keeps what is posted, as for "none"),
      "ui":     the UI hints below,
    }

A user task without any form gets ``source: "none"`` with an empty object schema, so clients can show
"no questions". Such a task accepts any data whose names are identifiers (normalised), as plain BPMN
tasks always have; every other model keeps only what its schema declares (`forms.validate`).

**Formats** checked on the server (`forms.formats`: ``ir-national-code``, ``ir-legal-id``,
``ir-postal-code``, ``ir-mobile``, ``ir-landline``, ``ir-sheba``, ``ir-card``, ``jalali-date``, ``date``,
``time``, ``date-time``, ``email``, ``phone``, ``uri``, ``uuid``, ``data-url``) are usable in every
dialect: JSON Schema ``format``, or a ``format`` property in Camunda 7 formData and Camunda Forms.

**Field paths.** A field is named by its path: property names from the root joined by dots, stepping
through list items without an index (``children.birth_date`` is the birth date of each child). Objects
and lists are not fields but groups. Error fields add the index (``children.0.birth_date``).

**UI hints**, the same shape for every dialect, every key always present::

    "order":        [path, ...]                  every field, in the order to ask
    "pages":        [[path, ...], ...]           one question per page (GOV.UK); fields of one group share one
    "widgets":      {path: widget}               one of WIDGETS
    "labels":       {path: text}                 text = {"fa": ..., "en": ...}, at least one language
    "help":         {path: text}
    "readonly":     [path, ...]                  shown, never taken from a submission
    "hidden_when":  {path: condition}            while the condition holds the field (or group) is not shown,
                                                 not kept and not required
    "groups":       {id: {"label": text | None, "path": path | None, "repeat": bool,
                          "parent": id | None, "fields": [path, ...]}}
                                                 path None: a visual group adding nothing to the data shape;
                                                 repeat: a list of items; fields: every field inside
    "texts":        [{"id": str, "format": "markdown" | "html", "text": text, "before": path | None,
                      "group": id | None, "hidden_when": condition | None}]
                                                 display-only content, placed before a field (None: at the end),
                                                 shown with its group; renderers escape markdown, sanitise html
    "options_from": {path: variable}             choices come from a process variable at run time
    "properties":   {path: {name: value}}        dialect properties Panjereh does not interpret

**Conditions** are data, never code to evaluate::

    {"field": path, "op": "eq" | "ne" | "lt" | "le" | "gt" | "ge", "value": string | number | bool | None}
    {"field": path, "op": "true"}                the field's value is the boolean true
    {"not": condition}  {"all": [condition, ...]}  {"any": [condition, ...]}   ({"all": []} always holds)

A condition's path is looked up first in the object holding the hidden field (a list item, say), then in
the whole submission. Logic is FEEL's: a comparison with a missing value or a value of another type is
unknown, and only a condition that is true hides.

**Bilingual labels.** A label is a plain string or has Persian and English variants: JSON Schema ``title``
with ``x-title-fa``/``x-title-en`` (``description`` with ``x-description-fa``/``x-description-en``); in
Camunda 7 formData and Camunda Forms, ``label`` with the properties ``label_fa``/``label_en`` (and
``help_fa``/``help_en``). A plain string counts as Persian when it has Arabic-script letters, else English.
The canonical schema always carries ``title`` plus ``x-title-fa``/``x-title-en`` for each known language.
"""

from __future__ import annotations

import json
import re
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

FormModel = dict[str, Any]
Text = dict[str, str]
Condition = dict[str, Any]

WIDGETS = frozenset({
    "text", "textarea", "number", "checkbox", "radio", "select", "checklist", "taglist", "date", "date-jalali",
    "time", "datetime", "file", "hidden",
})

_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


class FormDefinitionError(ValueError):
    """A form referenced by the model is missing or not valid.

    `elements` holds, when known, each element whose form is at fault: (element id, line, message).
    """

    def __init__(self, message: str, elements: tuple[tuple[str, int | None, str], ...] = ()) -> None:
        super().__init__(message)
        self.elements = elements


def read_json(content: bytes | str) -> Any:
    """A form file's JSON; raises `FormDefinitionError` ("is not valid JSON: ...") for anything unreadable.

    The JSON parser recurses per nesting level, so deeply nested text raises RecursionError, not a
    decoding error; that is a bad upload like any other.
    """
    try:
        return json.loads(content)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise FormDefinitionError(f"is not valid JSON: {err}") from None
    except RecursionError:
        raise FormDefinitionError("is not valid JSON: it nests too deeply to read") from None


def text(plain: str | None, fa: str | None = None, en: str | None = None) -> Text | None:
    """A bilingual text from a plain string and optional explicit variants; None when all are empty."""
    found: Text = {}
    if plain and plain.strip():
        found["fa" if _ARABIC_SCRIPT.search(plain) else "en"] = plain.strip()
    for lang, variant in (("fa", fa), ("en", en)):
        if variant and variant.strip():
            found[lang] = variant.strip()
    return found or None


def schema_text(node: dict[str, Any], key: str) -> Text | None:
    """The bilingual `title` or `description` of a schema node."""
    plain = node.get(key)
    return text(plain if isinstance(plain, str) else None, _str(node.get(f"x-{key}-fa")),
                _str(node.get(f"x-{key}-en")))


def put_schema_text(node: dict[str, Any], key: str, value: Text | None) -> None:
    """Write a bilingual text into a schema node the canonical way."""
    if not value:
        return
    node[key] = value.get("fa") or value["en"]
    for lang, variant in value.items():
        node[f"x-{key}-{lang}"] = variant


def object_schema(properties: dict[str, Any] | None = None, required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT, "type": "object", "properties": properties or {}}
    if required:
        schema["required"] = required
    return schema


def empty_hints() -> dict[str, Any]:
    """UI hints with every key present and nothing in them."""
    return {"order": [], "pages": [], "widgets": {}, "labels": {}, "help": {}, "readonly": [], "hidden_when": {},
            "groups": {}, "texts": [], "options_from": {}, "properties": {}}


def none_model() -> FormModel:
    """The model of a user task that asks nothing."""
    return {"source": "none", "schema": object_schema(), "ui": empty_hints()}


def declares_fields(form: FormModel | None) -> bool:
    """Whether the server knows the form's fields, and so keeps only those."""
    return bool(form) and form is not None and bool(form.get("schema")) and form.get("source") != "none"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
