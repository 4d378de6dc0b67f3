"""Small service folders for the visits ledger: a card, a model with Panjereh markings, forms."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

PANJEREH = 'xmlns:panjereh="urn:panjereh:bpmn:1.0"'
SPIFF = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'

# Five visits today: two the law needs (biometrics, an inspection), three avoidable; three offices.
CARD = '''process = "{process}"
agency = "registry"

[title]
fa = "خدمت آزمایشی"
en = "Trial service"

[lanes]
Applicant = "citizen"
Office = "registry"

[outcomes.end]
kind = "approved"
fa = "تأیید شد"
en = "Approved"

[offices.a]
fa = "دفتر الف"
en = "Office A"

[offices.b]
fa = "دفتر ب"
en = "Office B"

[offices.c]
fa = "دفتر ج"
en = "Office C"

[[before.visits]]
id = "prove_identity"
reason = "identity"
office = "a"
fa = "نشان دادن کارت ملی"
en = "Show the national card"
source = "https://example.org/card (step 1)"

[[before.visits]]
id = "fetch_certificate"
reason = "obtain_document_from_other_agency"
office = "b"
fa = "گرفتن گواهی"
en = "Get a certificate"
source = "Law of examples, article 3"

[[before.visits]]
id = "inspection"
reason = "physical_inspection"
fa = "بازدید"
en = "Inspection"
source = "https://example.org/card (step 3)"

[[before.visits]]
id = "fingerprints"
reason = "biometrics"
office = "a"
fa = "انگشت‌نگاری"
en = "Fingerprints"
source = "https://example.org/card (step 4)"

[[before.visits]]
id = "pickup"
reason = "pickup"
office = "c"
fa = "تحویل"
en = "Collect it"
source = "https://example.org/card (step 5)"

[[before.documents]]
id = "id_card"
fa = "کارت ملی"
en = "National card"
source = "https://example.org/card"

[[before.documents]]
id = "certificate"
fa = "گواهی"
en = "Certificate"
source = "https://example.org/card"

[[before.documents]]
id = "deed"
fa = "سند"
en = "Deed"
source = "https://example.org/card"
'''

APPLY_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {
        "name": {"type": "string", "readOnly": True, "title": "Name", "x-source": "civil_registry",
                 "x-kind": "identity"},
        "national_code": {"type": "string", "readOnly": True, "format": "ir-national-code", "title": "Code",
                          "x-source": "civil_registry"},
        "fee": {"type": "integer", "readOnly": True, "title": "Fee"},
        "postal_code": {"type": "string", "format": "ir-postal-code", "title": "Postal code"},
        "story": {"type": "string", "title": "Why"},
        "deed": {"type": "string", "format": "uuid", "title": "Deed", "x-document": "deed"},
        "photo": {"type": "string", "format": "uuid", "title": "Photo"},
        "secret": {"type": "string", "title": "Hidden"},
    },
}
APPLY_UI = {"ui:order": ["name", "national_code", "fee", "postal_code", "story", "deed", "photo", "secret"],
            "name": {"ui:readonly": True}, "national_code": {"ui:readonly": True}, "fee": {"ui:readonly": True},
            "deed": {"ui:widget": "file"}, "photo": {"ui:widget": "file"}, "secret": {"ui:widget": "hidden"}}
# The staff's form: its fields are the agency's work, not questions to the citizen.
INSPECT_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "properties": {"passed": {"type": "boolean", "title": "Passed"},
                               "owner_code": {"type": "string", "format": "ir-national-code", "title": "Owner"}}}

MARKINGS = {
    "fetch": 'panjereh:replaces="visit:prove_identity document:id_card"',
    "inspect": 'panjereh:presence="required" panjereh:presenceReason="physical_inspection" '
               'panjereh:visit="inspection"',
    "biometrics": 'panjereh:presence="required" panjereh:presenceReason="biometrics" panjereh:visit="fingerprints"',
    "sign": 'panjereh:presence="required" panjereh:presenceReason="signature" panjereh:office="a"',
    "deliver": 'panjereh:replaces="visit:pickup"',
    "apply": "",
}


def model(process: str, markings: dict[str, str]) -> str:
    """The trial service's model: each task carries the markings given for it."""
    def task(kind: str, task_id: str, inner: str = "") -> str:
        return f'<bpmn:{kind} id="{task_id}" {markings.get(task_id, "")}>{inner}</bpmn:{kind}>'

    form = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            'name="formJsonSchemaFilename" value="{0}.schema.json" />{1}</spiffworkflow:properties>'
            '</bpmn:extensionElements>')
    ui = '<spiffworkflow:property name="formUiSchemaFilename" value="apply.uischema.json" />'
    order = ["start", "fetch", "apply", "inspect", "biometrics", "sign", "deliver", "end"]
    body = [
        '<bpmn:laneSet id="lanes">',
        '<bpmn:lane id="lane_applicant" name="Applicant">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ("start", "apply", "end")) + "</bpmn:lane>",
        '<bpmn:lane id="lane_office" name="Office">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>"
                  for n in ("fetch", "inspect", "biometrics", "sign", "deliver")) + "</bpmn:lane>",
        "</bpmn:laneSet>",
        '<bpmn:startEvent id="start" />',
        task("scriptTask", "fetch", "<bpmn:script>person = 1</bpmn:script>"),
        task("userTask", "apply", form.format("apply", ui)),
        task("userTask", "inspect", form.format("inspect", "")),
        task("manualTask", "biometrics"),
        task("manualTask", "sign"),
        task("scriptTask", "deliver", "<bpmn:script>sent = True</bpmn:script>"),
        '<bpmn:endEvent id="end" />',
    ]
    body += [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
             for i, (a, b) in enumerate(itertools.pairwise(order))]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
            f'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" {SPIFF} {PANJEREH} id="defs" '
            f'targetNamespace="https://panjereh.example/tests">\n<bpmn:process id="{process}" isExecutable="true">\n'
            + "\n".join(body) + "\n</bpmn:process>\n</bpmn:definitions>\n")


def service_folder(root: Path, process: str = "trial", *, card: str = CARD, markings: dict[str, str] | None = None,
                   apply_form: dict[str, Any] | None = None) -> Path:
    """A service folder under `root` (`root/<process>`), as processes/ holds them."""
    folder = root / process
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service.toml").write_text(card.format(process=process), encoding="utf-8")
    (folder / f"{process}.bpmn").write_text(model(process, MARKINGS if markings is None else markings),
                                            encoding="utf-8")
    (folder / "apply.schema.json").write_text(json.dumps(apply_form or APPLY_FORM), encoding="utf-8")
    (folder / "apply.uischema.json").write_text(json.dumps(APPLY_UI), encoding="utf-8")
    (folder / "inspect.schema.json").write_text(json.dumps(INSPECT_FORM), encoding="utf-8")
    return folder
