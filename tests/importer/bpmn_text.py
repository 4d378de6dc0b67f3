"""Small BPMN documents for importer tests, written the way each modeler writes them."""

from __future__ import annotations

NAMESPACES = {
    "camunda7": 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
                'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
                'exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Platform"',
    "camunda8": 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
                'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
                'exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Cloud"',
    "spiffarena": 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"',
    "bpmn": 'exporter="bpmn-js (https://demo.bpmn.io)" exporterVersion="17.9.1"',
}


def model(body: str, dialect: str = "bpmn", key: str = "p", executable: str = "true") -> bytes:
    """A definitions document with one process `key` holding `body`."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'id="defs" targetNamespace="http://bpmn.io/schema/bpmn" {NAMESPACES[dialect]}>\n'
        f'<bpmn:process id="{key}" isExecutable="{executable}">\n{body}\n</bpmn:process>\n'
        "</bpmn:definitions>\n"
    ).encode()


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />'
    escaped = condition.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escaped}</bpmn:conditionExpression>'
            "</bpmn:sequenceFlow>")


def script(task_id: str, code: str) -> str:
    return f'<bpmn:scriptTask id="{task_id}" scriptFormat="python"><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'
