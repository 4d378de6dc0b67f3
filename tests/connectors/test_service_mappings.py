"""A service task's input and output mappings, in every modeler's dialect, are expressions, not text.

The calls go to the simulated civil registry: it finds the demo citizen only when the
national code was computed from the case's data, and its answer's fields are what the
output mappings read.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.services.deployments import UploadedFile, check
from engine.services.runtime import Runtime
from tests.connectors.flows import HEAD, case, deploy, spiff_operator, start
from tests.fixtures import Tokens

PERSON = "civil_registry/person_by_national_code"
DATA = {"prefix": "001", "rest": "3542419", "rest_number": 3542419, "year": 1403, "serial": "77", "a": {"b": 41}}


def process(task: str, process_id: str = "mapped") -> bytes:
    """One service task `fetch` between a start and an end."""
    return (f'{HEAD}<bpmn:process id="{process_id}" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            f"{task}"
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fetch" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="fetch" targetRef="end" />'
            "</bpmn:process></bpmn:definitions>").encode()


def service_task(extensions: str, attributes: str = "") -> str:
    return (f'<bpmn:serviceTask id="fetch" name="Ask the registry" {attributes}>'
            f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>"
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>")


ZEEBE_LOOKUP = service_task(
    f'<zeebe:taskDefinition type="{PERSON}" />'
    '<zeebe:ioMapping><zeebe:input source="=prefix + string(rest_number)" target="national_code" />'
    '<zeebe:output source="=first_name + &quot; &quot; + last_name" target="full_name" />'
    '<zeebe:output source="=person.alive and person.gender = &quot;male&quot;" target="living_man" />'
    "</zeebe:ioMapping>"
    '<zeebe:taskHeaders><zeebe:header key="resultVariable" value="person" /></zeebe:taskHeaders>')
CAMUNDA7_EXTERNAL = service_task(
    "<camunda:inputOutput>"
    '<camunda:inputParameter name="national_code">${prefix}${rest}</camunda:inputParameter>'
    '<camunda:outputParameter name="full_name">${first_name} ${last_name}</camunda:outputParameter>'
    '<camunda:outputParameter name="living_man">${person.alive &amp;&amp; gender == "male"}</camunda:outputParameter>'
    "</camunda:inputOutput>"
    '<camunda:properties><camunda:property name="resultVariable" value="person" /></camunda:properties>',
    f'camunda:type="external" camunda:topic="{PERSON}"')
CAMUNDA7_CONNECTOR = service_task(
    '<camunda:inputOutput><camunda:inputParameter name="code">${prefix}${rest}</camunda:inputParameter>'
    "</camunda:inputOutput>"
    "<camunda:connector><camunda:inputOutput>"
    '<camunda:inputParameter name="national_code">${code}</camunda:inputParameter>'
    '<camunda:outputParameter name="full_name">${first_name} ${last_name}</camunda:outputParameter>'
    '<camunda:outputParameter name="living_man">${alive and gender eq "male"}</camunda:outputParameter>'
    f"</camunda:inputOutput><camunda:connectorId>{PERSON}</camunda:connectorId></camunda:connector>")
SPIFF = service_task(spiff_operator(PERSON, {"national_code": "prefix + str(rest_number)"}, result="person")
                     + "<spiffworkflow:postScript>full_name = person['first_name'] + ' ' + person['last_name']\n"
                       "living_man = person['alive'] and person['gender'] == 'male'</spiffworkflow:postScript>")


@pytest.mark.parametrize("task", [ZEEBE_LOOKUP, CAMUNDA7_EXTERNAL, CAMUNDA7_CONNECTOR, SPIFF],
                         ids=["camunda8", "camunda7-external", "camunda7-connector", "spiffarena"])
def test_mapped_inputs_are_evaluated_and_outputs_read_the_answer(
        client: TestClient, tokens: Tokens, runtime: Runtime, task: str) -> None:
    assert deploy(client, tokens, process(task)).status_code == 201, "deployable"

    found = case(runtime, start(client, tokens, "mapped", DATA))

    assert found.call.params == {"national_code": "0013542419"}
    assert found.status == "completed", found.incidents
    assert found.data["full_name"] == "علی رضایی"
    assert found.data["living_man"] is True
    # Only what the mappings set stays: the answer's other fields do not spill into the case.
    assert "first_name" not in found.data and "postal_code" not in found.data


def test_without_a_result_variable_only_what_the_mappings_set_is_kept(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    task = service_task(f'<zeebe:taskDefinition type="{PERSON}" /><zeebe:ioMapping>'
                        '<zeebe:input source="=prefix + rest" target="national_code" />'
                        '<zeebe:output source="=first_name" target="first_name" /></zeebe:ioMapping>')
    assert deploy(client, tokens, process(task)).status_code == 201

    found = case(runtime, start(client, tokens, "mapped", DATA))

    assert found.status == "completed"
    assert set(found.data) - set(DATA) == {"first_name"}
    assert found.data["first_name"] == "علی"


@pytest.mark.parametrize("task, params", [
    (service_task('<zeebe:taskDefinition type="archive-document" />'
                  '<zeebe:ioMapping><zeebe:input source="=string(year) + &quot;/&quot; + serial" target="path" />'
                  '<zeebe:input source="=a.b + 1" target="next" /><zeebe:input source="draft" target="state" />'
                  "</zeebe:ioMapping>"),
     {"path": "1403/77", "next": 42, "state": "draft"}),
    (service_task("<camunda:inputOutput>"
                  '<camunda:inputParameter name="path">${year}/${serial}</camunda:inputParameter>'
                  '<camunda:inputParameter name="next">${a.b + 1}</camunda:inputParameter>'
                  '<camunda:inputParameter name="state">draft</camunda:inputParameter>'
                  "<camunda:inputParameter name=\"both\"><camunda:list><camunda:value>${serial}</camunda:value>"
                  "<camunda:value>x</camunda:value></camunda:list></camunda:inputParameter>"
                  "</camunda:inputOutput>", 'camunda:type="external" camunda:topic="archive-document"'),
     {"path": "1403/77", "next": 42, "state": "draft", "both": ["77", "x"]}),
], ids=["camunda8", "camunda7"])
def test_a_call_waiting_for_a_person_shows_the_evaluated_parameters(
        client: TestClient, tokens: Tokens, runtime: Runtime, task: str, params: dict[str, Any]) -> None:
    assert deploy(client, tokens, process(task)).status_code == 201

    found = case(runtime, start(client, tokens, "mapped", DATA))

    assert found.call.operation == "manual/archive-document"
    assert found.call.params == params


def _refusals(runtime: Runtime, task: str) -> list[str]:
    _, report = check([UploadedFile("model.bpmn", process(task))], runtime.settings, runtime.connectors)
    assert not report.deployable
    return [f"{p.element_id}: {p.message}" for p in report.problems if p.severity == "error"]


@pytest.mark.parametrize("task, words", [
    (service_task(f'<zeebe:taskDefinition type="{PERSON}" />'
                  '<zeebe:ioMapping><zeebe:input source="=substring(" target="national_code" /></zeebe:ioMapping>'),
     ["zeebe:input 'national_code'", "FEEL"]),
    (service_task(f'<zeebe:taskDefinition type="{PERSON}" />'
                  '<zeebe:ioMapping><zeebe:input source="=prefix" target="query.national_code" />'
                  "</zeebe:ioMapping>"),
     ["zeebe:input 'query.national_code'", "nested path"]),
    (service_task(f'<zeebe:taskDefinition type="{PERSON}" />'
                  '<zeebe:ioMapping><zeebe:input source="=prefix" target="national_code" />'
                  '<zeebe:output source="=first_name +" target="name" /></zeebe:ioMapping>'),
     ["zeebe:output 'name'"]),
    (service_task("<camunda:inputOutput>"
                  '<camunda:inputParameter name="national_code">${prefix +}</camunda:inputParameter>'
                  "</camunda:inputOutput>", f'camunda:type="external" camunda:topic="{PERSON}"'),
     ["camunda:inputParameter 'national_code'", "JUEL"]),
    (service_task(spiff_operator(PERSON, {"national_code": "__import__('os').getcwd()"})),
     ["spiffworkflow:parameter 'national_code'"]),
    (service_task(spiff_operator(PERSON, {"national_code": "=prefix"})),
     ["spiffworkflow:parameter 'national_code'", "not valid Python"]),
], ids=["feel-syntax", "nested-target", "feel-output", "juel-syntax", "spiff-sandbox", "spiff-syntax"])
def test_a_mapping_that_cannot_be_evaluated_is_refused_at_deploy_naming_it(
        runtime: Runtime, task: str, words: list[str]) -> None:
    refusals = _refusals(runtime, task)

    assert any(r.startswith("fetch: ") and all(w in r for w in words) for r in refusals), refusals


def send_task(attributes: str, extensions: str) -> str:
    return (f'<bpmn:sendTask id="fetch" name="Text the applicant" {attributes}>'
            f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>"
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:sendTask>")


@pytest.mark.parametrize("task", [
    send_task("", '<zeebe:taskDefinition type="sms/send" /><zeebe:ioMapping>'
                  '<zeebe:input source="=&quot;0912&quot; + rest_of_mobile" target="to" />'
                  '<zeebe:input source="Your licence is ready" target="text" /></zeebe:ioMapping>'),
    send_task('camunda:type="external" camunda:topic="sms/send"',
              '<camunda:inputOutput><camunda:inputParameter name="to">0912${rest_of_mobile}</camunda:inputParameter>'
              '<camunda:inputParameter name="text">Your licence is ready</camunda:inputParameter>'
              "</camunda:inputOutput>"),
], ids=["camunda8", "camunda7"])
def test_a_send_task_run_by_a_job_worker_makes_its_call(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                        task: str) -> None:
    assert deploy(client, tokens, process(task)).status_code == 201

    found = case(runtime, start(client, tokens, "mapped", {"rest_of_mobile": "1234567"}))

    assert (found.call.operation, found.call.params) == ("sms/send", {"to": "09121234567",
                                                                      "text": "Your licence is ready"})
    assert found.call.status == "completed" and found.status == "completed"


def test_a_message_event_run_by_a_connector_job_is_refused(runtime: Runtime) -> None:
    event = ('<bpmn:intermediateThrowEvent id="fetch"><bpmn:extensionElements>'
             '<zeebe:taskDefinition type="sms/send" /></bpmn:extensionElements>'
             '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
             '<bpmn:messageEventDefinition id="notice" /></bpmn:intermediateThrowEvent>')

    assert any(r.startswith("fetch: ") and "'sms/send'" in r and "never be called" in r
               for r in _refusals(runtime, event))
