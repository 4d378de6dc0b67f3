"""Finding the form of every user task (and start event) in a BPMN document, in any dialect.

Which definition wins when an element has several, first to last:

1. Camunda 7 ``camunda:formData`` (`forms.camunda7`);
2. SpiffArena ``formJsonSchemaFilename`` (+ ``formUiSchemaFilename``) properties (`forms.spiff`);
3. Camunda 8 ``zeebe:formDefinition``: ``formKey="camunda-forms:bpmn:ID"`` is the ``zeebe:userTaskForm``
   embedded in the BPMN; ``formId`` is a deployed ``.form`` file whose JSON ``id`` matches; another
   ``formKey`` is a deployed form with that id if there is one, else an external form known only by key,
   as is an ``externalReference`` (`forms.formjs`);
4. Camunda 7 ``camunda:formRef`` (a deployed form by id) or ``camunda:formKey``
   (``camunda-forms:deployment:FILE`` is a deployed file; anything else is external);
5. nothing: a user task gets the "none" model, a start event no entry.

The model shape is described in `forms.model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from lxml import etree

from forms.camunda7 import CAMUNDA, camunda7_form
from forms.formjs import formjs_form
from forms.model import FormDefinitionError, FormModel, empty_hints, none_model, read_json
from forms.spiff import spiff_form

__all__ = ["FormDefinitionError", "FormModel", "task_forms"]

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
_EMBEDDED = "camunda-forms:bpmn:"
_DEPLOYED = "camunda-forms:deployment:"


class _Library:
    """The Camunda Forms a document can reference: embedded ones, and deployed files by form id."""

    def __init__(self, root: etree._Element, files: Mapping[str, bytes]) -> None:
        self.embedded = {e.get("id", ""): e.text or "" for e in root.iter(f"{ZEEBE}userTaskForm")}
        self.files = files
        self.by_id: dict[str, list[tuple[str, object]]] = {}
        self.unreadable: list[str] = []
        for name, content in files.items():
            if PurePosixPath(name).suffix.lower() not in (".form", ".json"):
                continue
            try:
                document = read_json(content)
            except FormDefinitionError as err:
                self.unreadable.append(f"'{name}' {err}")
                continue
            if isinstance(document, dict) and isinstance(document.get("components"), list):
                self.by_id.setdefault(str(document.get("id", "")), []).append((name, document))

    def embedded_form(self, form_id: str) -> FormModel:
        if form_id not in self.embedded:
            raise FormDefinitionError(f"no zeebe:userTaskForm with id '{form_id}' in the model")
        try:
            document = read_json(self.embedded[form_id])
        except FormDefinitionError as err:
            raise FormDefinitionError(f"the embedded form '{form_id}' {err}") from err
        return formjs_form(document, form_id)

    def deployed(self, form_id: str, required: bool) -> FormModel | None:
        found = self.by_id.get(form_id, [])
        if len(found) > 1:
            raise FormDefinitionError(f"more than one deployed form has the id '{form_id}': "
                                      + ", ".join(name for name, _ in found))
        if found:
            return formjs_form(found[0][1], form_id)
        if not required:
            return None
        unreadable = f"; {'; '.join(self.unreadable)}" if self.unreadable else ""
        raise FormDefinitionError(f"no deployed form has the id '{form_id}' (upload its .form file with the "
                                  f"model){unreadable}")

    def deployed_file(self, name: str) -> FormModel:
        if name not in self.files:
            raise FormDefinitionError(f"form file '{name}' was not uploaded with the model")
        try:
            document = read_json(self.files[name])
        except FormDefinitionError as err:
            raise FormDefinitionError(f"form file '{name}' {err}") from err
        return formjs_form(document, name)


def _zeebe_form(element: etree._Element, library: _Library) -> FormModel | None:
    definition = element.find(f"{BPMN}extensionElements/{ZEEBE}formDefinition")
    if definition is None:
        return None
    key, form_id = definition.get("formKey") or "", definition.get("formId") or ""
    if key.startswith(_EMBEDDED):
        return library.embedded_form(key.removeprefix(_EMBEDDED))
    if form_id:
        return library.deployed(form_id, required=True)
    if key:
        return library.deployed(key, required=False) or {
            "source": "zeebe:formKey", "ref": key, "schema": None, "ui": empty_hints()}
    reference = definition.get("externalReference") or ""
    return {"source": "zeebe:externalReference", "ref": reference, "schema": None, "ui": empty_hints()}


def _camunda_reference(element: etree._Element, library: _Library) -> FormModel | None:
    form_ref = element.get(f"{CAMUNDA}formRef")
    if form_ref:
        return library.deployed(form_ref, required=True)
    key = element.get(f"{CAMUNDA}formKey")
    if not key:
        return None
    if key.startswith(_DEPLOYED):
        return library.deployed_file(key.removeprefix(_DEPLOYED))
    return {"source": "camunda:formKey", "ref": key, "schema": None, "ui": empty_hints()}


def _form_of(element: etree._Element, files: Mapping[str, bytes], library: _Library) -> FormModel | None:
    form_data = element.find(f"{BPMN}extensionElements/{CAMUNDA}formData")
    if form_data is not None:
        return camunda7_form(form_data)
    spiff = {p.get("name"): p.get("value") for p in element.iter(f"{SPIFF}property")}
    if spiff.get("formJsonSchemaFilename"):
        return spiff_form(files, str(spiff["formJsonSchemaFilename"]), spiff.get("formUiSchemaFilename") or None)
    found = _zeebe_form(element, library) or _camunda_reference(element, library)
    if found is None and element.tag == f"{BPMN}userTask":
        return none_model()
    return found


def task_forms(root: etree._Element, files: Mapping[str, bytes]) -> dict[str, FormModel]:
    """Form models of every user task (and start event with a form) in one BPMN document, by element id.

    Raises:
        FormDefinitionError: one or more forms are missing or not valid; the message names every element.
    """
    library = _Library(root, files)
    forms: dict[str, FormModel] = {}
    problems: list[tuple[str, int | None, str]] = []
    for element in root.iter(f"{BPMN}userTask", f"{BPMN}startEvent"):
        element_id = element.get("id", "")
        kind = "user task" if element.tag == f"{BPMN}userTask" else "start event"
        try:
            model = _form_of(element, files, library)
        except FormDefinitionError as err:
            problems.append((element_id, element.sourceline, f"{kind} '{element_id}': {err}"))
            continue
        except RecursionError:
            # The form readers walk nested components and schemas recursively.
            problems.append((element_id, element.sourceline,
                             f"{kind} '{element_id}': its form nests too deeply to read"))
            continue
        if model is not None:
            forms[element_id] = model
    if problems:
        raise FormDefinitionError("; ".join(message for _, _, message in problems), tuple(problems))
    return forms
