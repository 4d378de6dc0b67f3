"""Every model in designer_exports/ goes through the real deployment check and, where the
manifest says what running it must produce, through a headless run.

The expectations in designer_exports/MANIFEST.toml come from BPMN semantics and the
modelers' own platforms, not from what the engine happens to do today.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.headless import run_model
from engine.services.deployments import UploadedFile, check
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import ROOT

EXPORTS = ROOT / "designer_exports"
MANIFEST: list[dict[str, Any]] = tomllib.loads((EXPORTS / "MANIFEST.toml").read_text(encoding="utf-8"))["model"]
NOT_MODELS = {"README.md", "MANIFEST.toml"}
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
STATUSES = {"executes", "translated", "needs attention", "unsupported"}
FLOW_ELEMENTS = {
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent", "boundaryEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
    "eventBasedGateway", "complexGateway", "sequenceFlow",
}
# What each modeler writes in `exporter`, `exporterVersion` and the execution platform.
STAMPS = {
    "camunda7": ("Camunda Modeler", "5.23.0", "Camunda Platform"),
    "camunda8": ("Camunda Modeler", "5.23.0", "Camunda Cloud"),
    "bpmnio": ("bpmn-js (https://demo.bpmn.io)", "17.9.1", None),
    "spiffarena": ("Camunda Modeler", "3.0.0-dev", None),
}
MODELER_NS = "{http://camunda.org/schema/modeler/1.0}"


def _uploads(entry: dict[str, Any]) -> list[UploadedFile]:
    names = [entry["file"], *entry.get("with", [])]
    return [UploadedFile(Path(name).name, (EXPORTS / name).read_bytes()) for name in names]


def _models() -> list[Any]:
    return [pytest.param(entry, id=entry["file"]) for entry in MANIFEST]


def _runs() -> list[Any]:
    return [pytest.param(entry, run, id=f"{entry['file']}#{i + 1}")
            for entry in MANIFEST for i, run in enumerate(entry.get("run", []))]


def _lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        assert isinstance(value, dict) and part in value, f"'{path}' is not in the data: {data}"
        value = value[part]
    return value


def _flow_element_ids(content: bytes) -> set[str]:
    root = etree.fromstring(content)
    return {node.get("id", "") for container in root.iter(f"{{{BPMN}}}process") for node in container.iter()
            if isinstance(node.tag, str) and etree.QName(node).namespace == BPMN
            and etree.QName(node).localname in FLOW_ELEMENTS}


def test_every_file_is_in_the_manifest() -> None:
    listed = [name for entry in MANIFEST for name in [entry["file"], *entry.get("with", [])]]
    on_disk = {str(p.relative_to(EXPORTS)) for p in EXPORTS.rglob("*")
               if p.is_file() and "make" not in p.relative_to(EXPORTS).parts and p.name not in NOT_MODELS}
    assert sorted(on_disk - set(listed)) == [], "files missing from MANIFEST.toml"
    assert sorted(set(listed) - on_disk) == [], "MANIFEST.toml lists files that do not exist"
    assert len({e["file"] for e in MANIFEST}) == len(MANIFEST), "a file has two entries"
    assert len([e for e in MANIFEST if e["file"].endswith(".bpmn")]) >= 32


@pytest.mark.parametrize("entry", _models())
def test_manifest_entry_is_complete(entry: dict[str, Any]) -> None:
    for key in ("modeler", "made", "covers", "deployable"):
        assert key in entry, f"{entry['file']} has no '{key}'"
    assert entry["covers"], "say what the model covers"
    for run in entry.get("run", []):
        assert ("expect_end" in run) != ("expect_waiting" in run), "a run expects an end or a wait, not both"


@pytest.mark.parametrize("entry", _models())
def test_file_carries_its_modelers_stamp(entry: dict[str, Any]) -> None:
    exporter, version, platform = STAMPS[entry["file"].split("/")[0]]
    for name in [entry["file"], *entry.get("with", [])]:
        if not name.endswith((".bpmn", ".dmn")):
            continue
        root = etree.fromstring((EXPORTS / name).read_bytes())
        assert (root.get("exporter"), root.get("exporterVersion")) == (exporter, version), name
        assert root.get(f"{MODELER_NS}executionPlatform") == platform, name


@pytest.mark.parametrize("entry", _models())
def test_deployment_check(entry: dict[str, Any], runtime: Runtime) -> None:
    loaded, report = check(_uploads(entry), runtime.settings, runtime.connectors)
    errors = [str(p) for p in report.problems if p.severity == "error"]
    if entry["deployable"]:
        assert loaded is not None, "\n".join(errors)
    else:
        assert loaded is None and errors, "the check accepted a model it must refuse"
    for element_id in entry.get("unsupported", []):
        found = [e for e in report.elements if e.element_id == element_id]
        assert found and found[0].status == "unsupported", f"{element_id}: {found}"
    for element_id, phrase in entry.get("attention", {}).items():
        said = [p.message for p in report.problems if p.element_id == element_id]
        said += [d for e in report.elements if e.element_id == element_id for d in e.details]
        assert any(phrase.lower() in s.lower() for s in said), f"{element_id}: nothing says '{phrase}': {said}"


@pytest.mark.parametrize("entry", _models())
def test_report_lists_every_flow_element(entry: dict[str, Any], settings: Settings) -> None:
    uploads = _uploads(entry)
    _, report = check(uploads, settings)
    for upload in uploads:
        if not upload.name.endswith(".bpmn"):
            continue
        listed = {e.element_id: e.status for e in report.elements if e.file == upload.name}
        missing = _flow_element_ids(upload.content) - set(listed)
        assert not missing, f"{upload.name}: the report does not list {sorted(missing)}"
        assert set(listed.values()) <= STATUSES, listed


@pytest.mark.parametrize("entry, run", _runs())
def test_headless_run(entry: dict[str, Any], run: dict[str, Any], settings: Settings) -> None:
    outcome = run_model(_uploads(entry), settings, dict(run.get("data", {})), dict(run.get("answers", {})),
                        dict(run.get("results", {})), run.get("process"))
    assert outcome.error is None, outcome.error
    if "expect_end" in run:
        assert outcome.status == "completed", f"{outcome.status}; waiting at {outcome.waiting}; path {outcome.path}"
        assert run["expect_end"] in outcome.path, f"ended by {outcome.path}"
    else:
        assert outcome.status == "waiting", f"{outcome.status}; path {outcome.path}"
        waiting = {w["task"] for w in outcome.waiting}
        assert set(run["expect_waiting"]) <= waiting, f"waiting at {sorted(waiting)}; path {outcome.path}"
    for path, expected in run.get("expect_data", {}).items():
        assert _lookup(outcome.data, path) == expected, path
    for name in run.get("expect_absent", []):
        assert name not in outcome.data, f"'{name}' was set"
