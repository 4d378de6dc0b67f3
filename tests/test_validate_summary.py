"""`panjereh validate --summary DIR [--run] [--json]` over a folder of exports, and the readable report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.cli import main
from tests.fixtures import ROOT

EXPORTS = ROOT / "designer_exports"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A few real exports, a descriptive diagram, a file that is not XML and one in a subfolder."""
    for name in ("camunda7/juel_conditions.bpmn", "bpmnio/descriptive.bpmn", "bpmnio/python_conditions.bpmn",
                 "camunda8/message_start.bpmn"):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXPORTS / name, target)
    (tmp_path / "bpmnio" / "broken.bpmn").write_bytes(
        b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:')
    return tmp_path


def test_summary_json_has_one_line_per_file_and_explains_each_failure(folder: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--summary", str(folder), "--run", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_file = {line["file"]: line for line in lines}
    assert set(by_file) == {"camunda7/juel_conditions.bpmn", "bpmnio/descriptive.bpmn",
                            "bpmnio/python_conditions.bpmn", "camunda8/message_start.bpmn", "bpmnio/broken.bpmn"}
    for line in lines:
        assert set(line) == {"file", "dialect", "exporter", "imported", "deployable", "ran_to_end", "reasons"}
        assert line["deployable"] or line["reasons"], f"{line['file']} failed without a reason"
    assert by_file["bpmnio/broken.bpmn"]["imported"] is False
    assert "not well-formed" in by_file["bpmnio/broken.bpmn"]["reasons"][0]
    descriptive = by_file["bpmnio/descriptive.bpmn"]
    assert descriptive["imported"] and not descriptive["deployable"] and descriptive["ran_to_end"] is None
    assert by_file["camunda7/juel_conditions.bpmn"]["dialect"] == "camunda7"
    assert by_file["camunda8/message_start.bpmn"]["dialect"] == "camunda8"
    assert by_file["camunda8/message_start.bpmn"]["ran_to_end"] is True, "started by its message, as it would be"
    juel = by_file["camunda7/juel_conditions.bpmn"]
    assert juel["deployable"] and juel["ran_to_end"] is False, "its first form requires an amount"
    assert "name 'amount' is not defined" in juel["reasons"][-1]


def test_summary_table_counts_by_dialect_and_exporter(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--summary", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "by dialect" in out and "by exporter" in out and "top reasons" in out
    total = next(line for line in out.splitlines() if line.startswith("all"))
    assert total.split()[1:] == ["5", "4", "3"], "files, imported, deployable (no run column without --run)"
    assert main(["validate", "--summary", str(folder / "nowhere")]) == 2


def test_readable_report_lists_translated_elements_with_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXPORTS / "camunda7" / "juel_conditions.bpmn")]) == 0
    out = capsys.readouterr().out
    assert "juel_conditions.bpmn  (bpmn, camunda7, Camunda Modeler" in out
    translated = [line for line in out.splitlines() if "translated" in line and "JUEL" in line]
    assert translated and all(line.split()[0].isdigit() for line in translated), "each row starts with its line"
    assert out.rstrip().endswith("deployable")
