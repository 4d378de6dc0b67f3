"""One form model for every dialect: JSON Schema (2020-12) plus UI hints.

A user task's form comes from Camunda 7 `camunda:formData`, from SpiffArena's
`formJsonSchemaFilename` property (a JSON Schema file deployed next to the BPMN), or is
only referenced (Camunda `formKey`, Zeebe `formKey`/`formId`), in which case the server
knows no fields and says so in the form's `source`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lxml import etree

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

FormModel = dict[str, Any]

_CAMUNDA_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}


class FormDefinitionError(ValueError):
    """A form referenced by the model is missing or not valid."""


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def _camunda_field(node: etree._Element) -> tuple[str, dict[str, Any], bool]:
    field_id = node.get("id", "")
    kind = node.get("type") or "string"
    prop: dict[str, Any] = dict(_CAMUNDA_TYPES.get(kind, {"type": "string"}))
    prop["title"] = node.get("label") or field_id
    if kind == "enum":
        values = [(v.get("id", ""), v.get("name") or v.get("id", "")) for v in node.iter(f"{CAMUNDA}value")]
        prop["oneOf"] = [{"const": value, "title": title} for value, title in values]
    required = False
    for constraint in node.iter(f"{CAMUNDA}constraint"):
        name, config = constraint.get("name"), constraint.get("config")
        if name == "required":
            required = True
        elif name == "readonly":
            prop["readOnly"] = True
        elif name in ("minlength", "maxlength") and config is not None:
            prop["minLength" if name == "minlength" else "maxLength"] = int(config)
        elif name in ("min", "max") and config is not None:
            prop["minimum" if name == "min" else "maximum"] = _number(config)
        elif name == "pattern" and config:
            prop["pattern"] = config
    default = node.get("defaultValue")
    if default is not None and "${" not in default:
        prop["default"] = _number(default) if prop.get("type") in ("integer", "number") else default
    return field_id, prop, required


def _camunda_form(form_data: etree._Element) -> FormModel:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for node in form_data.iterfind(f"{CAMUNDA}formField"):
        field_id, prop, is_required = _camunda_field(node)
        properties[field_id] = prop
        if is_required:
            required.append(field_id)
    schema = {"$schema": SCHEMA_DIALECT, "type": "object", "properties": properties, "required": required}
    return {"source": "camunda:formData", "schema": schema, "ui": {"order": list(properties)}}


def _spiff_form(task: etree._Element, files: Mapping[str, bytes]) -> FormModel | None:
    props = {p.get("name"): p.get("value") for p in task.iter(f"{SPIFF}property")}
    schema_file = props.get("formJsonSchemaFilename")
    if not schema_file:
        return None
    if schema_file not in files:
        raise FormDefinitionError(f"form schema file '{schema_file}' was not uploaded with the model")
    try:
        schema = json.loads(files[schema_file])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FormDefinitionError(f"form schema file '{schema_file}' is not valid JSON: {err}") from err
    if not isinstance(schema, dict):
        raise FormDefinitionError(f"form schema file '{schema_file}' must hold a JSON object")
    ui: dict[str, Any] = {}
    ui_file = props.get("formUiSchemaFilename")
    if ui_file and ui_file in files:
        try:
            ui = json.loads(files[ui_file])
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise FormDefinitionError(f"form UI file '{ui_file}' is not valid JSON: {err}") from err
    return {"source": "spiffworkflow:formJsonSchemaFilename", "file": schema_file, "schema": schema, "ui": ui}


def _referenced_form(task: etree._Element) -> FormModel | None:
    key = task.get(f"{CAMUNDA}formKey") or task.get(f"{CAMUNDA}formRef")
    if key:
        return {"source": "camunda:formKey", "key": key, "schema": None, "ui": {}}
    zeebe = task.find(f".//{ZEEBE}formDefinition")
    if zeebe is not None:
        key = zeebe.get("formKey") or zeebe.get("formId") or zeebe.get("externalReference") or ""
        return {"source": "zeebe:formDefinition", "key": key, "schema": None, "ui": {}}
    return None


def task_forms(root: etree._Element, files: Mapping[str, bytes]) -> dict[str, FormModel]:
    """Form models of every user task in one BPMN document, by task element id."""
    forms: dict[str, FormModel] = {}
    for task in root.iter(f"{BPMN}userTask"):
        task_id = task.get("id", "")
        form_data = task.find(f"{BPMN}extensionElements/{CAMUNDA}formData")
        if form_data is not None:
            forms[task_id] = _camunda_form(form_data)
            continue
        model = _spiff_form(task, files) or _referenced_form(task)
        if model is not None:
            forms[task_id] = model
    return forms
