"""Small builders shared by the form tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from forms.extract import task_forms
from forms.model import FormModel
from forms.validate import FieldError

DATA = Path(__file__).resolve().parent / "data"
CAMUNDA7_HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
                 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">'
                 '<bpmn:process id="p" isExecutable="true">')


def forms_of(bpmn: str | bytes, files: dict[str, bytes] | None = None) -> dict[str, FormModel]:
    root = etree.fromstring(bpmn.encode() if isinstance(bpmn, str) else bpmn)
    return task_forms(root, files or {})


def camunda7(fields_xml: str) -> FormModel:
    """The model of one user task whose formData holds `fields_xml`."""
    return forms_of(f'{CAMUNDA7_HEAD}<bpmn:userTask id="t"><bpmn:extensionElements><camunda:formData>'
                    f'{fields_xml}</camunda:formData></bpmn:extensionElements></bpmn:userTask>'
                    '</bpmn:process></bpmn:definitions>')["t"]


def string_form(fmt: str, required: bool = True) -> FormModel:
    """A one-field form whose field `value` has the JSON Schema format `fmt`."""
    schema: dict[str, Any] = {"type": "object", "properties": {"value": {"type": "string", "format": fmt}}}
    if required:
        schema["required"] = ["value"]
    return {"source": "test", "schema": schema, "ui": {}}


def codes(errors: list[FieldError]) -> dict[str, str]:
    return {e.field: e.code for e in errors}
