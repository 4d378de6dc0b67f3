"""Modeler templates and the SpiffArena command catalogue, made from the installed operations.

The structure is checked against the rules of Camunda's element-template JSON Schemas that
apply to what we generate (required fields, binding types and their required keys, field
types per binding, constraints), written out here since the tests run offline.
"""

import json
import re
from importlib.metadata import EntryPoint

import pytest
from jsonschema import Draft7Validator

from connectors.registry import GROUP, load_registry
from connectors.templates import CAMUNDA7_SCHEMA, CAMUNDA8_SCHEMA, command_catalogue, element_templates

NAMESPACED = {"type": "string", "pattern": "^(.*?:)"}
CONSTRAINTS = {
    "type": "object",
    "properties": {
        "notEmpty": {"type": "boolean"},
        "minLength": {"type": "number"},
        "maxLength": {"type": "number"},
        "pattern": {"oneOf": [
            {"type": "object", "properties": {"value": {"type": "string"}, "message": {"type": "string"}},
             "required": ["value"]},
            {"type": "string"}]},
    },
    "additionalProperties": False,
}


def _when(binding_type, *then):
    return {"if": {"properties": {"binding": {"properties": {"type": {"const": binding_type}}}}},
            "then": {"allOf": list(then)}}


def _needs(*keys):
    return {"properties": {"binding": {"required": list(keys)}}}


def _types(*names):
    return {"properties": {"type": {"enum": list(names)}}}


def template_schema(schema_url, binding_types, rules):
    return {
        "type": "object",
        "required": ["$schema", "name", "id", "appliesTo", "properties"],
        "properties": {
            "$schema": {"const": schema_url},
            "name": {"type": "string", "minLength": 1},
            "id": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "version": {"type": "number"},
            "appliesTo": {"type": "array", "items": NAMESPACED},
            "elementType": {"type": "object", "required": ["value"], "properties": {"value": NAMESPACED}},
            "groups": {"type": "array", "items": {
                "type": "object", "required": ["id", "label"],
                "properties": {"id": {"type": "string"}, "label": {"type": "string"}}}},
            "properties": {"type": "array", "items": {
                "type": "object",
                "required": ["binding"],
                "properties": {
                    "label": {"type": "string"},
                    "description": {"type": "string"},
                    "group": {"type": "string"},
                    "type": {"enum": ["String", "Text", "Hidden", "Dropdown", "Boolean", "Number"]},
                    "value": {"type": ["string", "number", "boolean"]},
                    "feel": {"enum": ["optional", "required", "static"]},
                    "choices": {"type": "array", "items": {
                        "type": "object", "required": ["name", "value"],
                        "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}},
                    "constraints": CONSTRAINTS,
                    "binding": {"type": "object", "required": ["type"],
                                "properties": {"type": {"enum": binding_types}}},
                },
                "allOf": [
                    {"if": {"properties": {"type": {"const": "Dropdown"}}, "required": ["type"]},
                     "then": {"required": ["choices"]}},
                    {"if": {"properties": {"type": {"not": {"const": "Number"}}}, "required": ["type"]},
                     "then": {"properties": {"value": {"type": ["string", "boolean"]}}}},
                    {"if": {"required": ["feel"]}, "then": _types("String", "Text", "Number", "Boolean")},
                    *rules,
                ],
            }},
        },
    }


CAMUNDA8 = template_schema(CAMUNDA8_SCHEMA, ["property", "zeebe:taskDefinition", "zeebe:input", "zeebe:output",
                                             "zeebe:property", "zeebe:taskHeader"], [
    _when("zeebe:input", _needs("name"), _types("String", "Text", "Hidden", "Dropdown", "Boolean", "Number")),
    _when("zeebe:taskHeader", _needs("key"), _types("String", "Text", "Hidden", "Dropdown", "Boolean", "Number")),
    _when("zeebe:taskDefinition", {"properties": {"binding": {
        "required": ["property"], "properties": {"property": {"enum": ["type", "retries"]}}}}}),
])
CAMUNDA7 = template_schema(CAMUNDA7_SCHEMA, ["property", "camunda:property", "camunda:inputParameter",
                                             "camunda:outputParameter", "camunda:field"], [
    _when("property", _needs("name"), _types("String", "Text", "Hidden", "Dropdown", "Boolean")),
    _when("camunda:property", _needs("name"), _types("String", "Hidden", "Dropdown")),
    _when("camunda:inputParameter", _needs("name"), _types("String", "Text", "Hidden", "Dropdown")),
    {"properties": {"feel": False}},  # Camunda 7 templates know no FEEL
])


@pytest.fixture(scope="module")
def registry():
    entry_points = [EntryPoint(name, f"tests.connectors.plugins:{cls}", GROUP)
                    for name, cls in [("civil_registry", "CivilRegistry"), ("post", "Post")]]
    loaded = load_registry(entry_points=entry_points, config={"civil_registry": {"base_url": "http://r.test"}})
    assert loaded.problems == []
    return loaded


def by_binding(template, binding_type, key="name"):
    return {p["binding"].get(key): p for p in template["properties"] if p["binding"]["type"] == binding_type}


def check_structure(templates, schema):
    errors = [f"{t['id']}: {e.json_path}: {e.message}" for t in templates
              for e in Draft7Validator(schema).iter_errors(t)]
    assert errors == []
    for template in templates:
        groups = {g["id"] for g in template["groups"]}
        assert {p["group"] for p in template["properties"] if "group" in p} <= groups
    json.loads(json.dumps(templates, ensure_ascii=False))


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_camunda8_templates_have_the_structure_the_modeler_loads(registry, lang):
    check_structure(element_templates(registry, lang=lang, platform="camunda8"), CAMUNDA8)


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_camunda7_templates_have_the_structure_the_modeler_loads(registry, lang):
    check_structure(element_templates(registry, lang=lang, platform="camunda7"), CAMUNDA7)


def test_the_structure_check_catches_broken_templates(registry):
    camunda8 = element_templates(registry)[0]
    del camunda8["properties"][1]["binding"]["name"]
    camunda7 = element_templates(registry, platform="camunda7")[0]
    by_binding(camunda7, "camunda:inputParameter")["include_address"]["type"] = "Boolean"

    assert list(Draft7Validator(CAMUNDA8).iter_errors(camunda8))
    assert list(Draft7Validator(CAMUNDA7).iter_errors(camunda7))


def test_one_camunda8_template_per_operation_makes_a_job_worker_task(registry):
    templates = {t["id"]: t for t in element_templates(registry, platform="camunda8")}
    assert sorted(templates) == ["panjereh.civil_registry.person", "panjereh.post.address"]

    person = templates["panjereh.civil_registry.person"]
    assert person["name"] == "Person by national code"
    assert person["description"] == "Name and birth date of a person"
    assert person["appliesTo"] == ["bpmn:Task"]
    assert person["elementType"] == {"value": "bpmn:ServiceTask"}
    [task_type] = [p for p in person["properties"] if p["binding"]["type"] == "zeebe:taskDefinition"]
    assert task_type == {"type": "Hidden", "value": "civil_registry/person",
                         "binding": {"type": "zeebe:taskDefinition", "property": "type"}}

    inputs = by_binding(person, "zeebe:input")
    assert list(inputs) == ["national_code", "include_address", "channel", "year"]
    code = inputs["national_code"]
    assert (code["label"], code["type"], code["feel"], code["description"]) == (
        "National code", "String", "optional", "ten digits")
    assert code["constraints"]["notEmpty"] is True
    assert code["constraints"]["pattern"]["value"] == r"^\d{10}$"
    assert "constraints" not in inputs["include_address"]
    assert (inputs["include_address"]["type"], inputs["include_address"]["value"]) == ("Boolean", False)
    assert inputs["channel"]["type"] == "Dropdown"
    assert inputs["channel"]["choices"] == [{"name": "web", "value": "web"}, {"name": "counter", "value": "counter"}]
    assert inputs["channel"]["value"] == "web"
    assert inputs["year"]["type"] == "Number"

    header = by_binding(person, "zeebe:taskHeader", key="key")["resultVariable"]
    assert (header["type"], header["value"]) == ("String", "person")


def test_persian_templates_speak_persian(registry):
    person = {t["id"]: t for t in element_templates(registry, lang="fa")}["panjereh.civil_registry.person"]
    assert person["name"] == "استعلام فرد"
    assert by_binding(person, "zeebe:input")["national_code"]["label"] == "کد ملی"
    assert {g["label"] for g in person["groups"]} == {"ورودی‌ها", "نتیجه"}
    assert person["description"] == "Name and birth date of a person"  # no Persian given: English, not nothing


def test_camunda7_templates_make_an_external_task_on_the_operation_topic(registry):
    person = {t["id"]: t for t in element_templates(registry, platform="camunda7")}["panjereh.civil_registry.person"]
    props = by_binding(person, "property")
    assert props["camunda:type"]["value"] == "external"
    assert props["camunda:topic"] == {"type": "Hidden", "value": "civil_registry/person",
                                      "binding": {"type": "property", "name": "camunda:topic"}}
    inputs = by_binding(person, "camunda:inputParameter")
    assert list(inputs) == ["national_code", "include_address", "channel", "year"]
    assert inputs["include_address"]["type"] == "Dropdown"
    assert by_binding(person, "camunda:property")["resultVariable"]["value"] == "person"

    pattern = re.compile(inputs["national_code"]["constraints"]["pattern"]["value"])
    assert pattern.search("0012345678") and pattern.search("${nationalCode}")
    assert not pattern.search("12ab")
    year = re.compile(inputs["year"]["constraints"]["pattern"]["value"])
    assert year.search("1402") and year.search("${year}") and not year.search("next year")


def test_an_unknown_platform_is_refused(registry):
    with pytest.raises(ValueError):
        element_templates(registry, platform="camunda6")


def test_the_command_catalogue_lists_operations_in_connector_proxy_shape(registry):
    catalogue = {c["id"]: c for c in command_catalogue(registry)}
    assert sorted(catalogue) == ["civil_registry/person", "post/address"]
    assert catalogue["civil_registry/person"]["parameters"] == [
        {"id": "national_code", "type": "str", "required": True},
        {"id": "include_address", "type": "bool", "required": False},
        {"id": "channel", "type": "str", "required": False},
        {"id": "year", "type": "int", "required": False},
    ]
