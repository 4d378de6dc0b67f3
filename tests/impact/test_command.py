"""`panjereh impact`: one JSON object with --json, a table without; what is deployed, else processes/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import main
from engine.services.catalogue import deploy_service
from engine.services.runtime import Runtime
from engine.settings import Settings, get_settings
from tests.fixtures import ROOT
from tests.impact.folders import service_folder

ENTRY_KEYS = {"visits_before", "visits_after", "avoidable_before", "avoidable_after", "irreducible",
              "documents_before", "documents_after", "offices_before", "offices_after", "fields_prefilled",
              "fields_asked"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings, runtime: Runtime) -> Iterator[Settings]:
    monkeypatch.setenv("PANJEREH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PANJEREH_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("PANJEREH_PROCESSES_DIR", str(ROOT / "processes"))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _printed(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[dict[str, object], str]:
    assert main(["impact", "--json", *args]) == 0
    out = capsys.readouterr()
    # Exactly one JSON object on stdout: json.loads refuses anything before or after it.
    found = json.loads(out.out)
    assert isinstance(found, dict) and set(found) == {"services", "total"}
    return found, out.err


def test_json_from_processes_when_nothing_is_deployed(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    found, note = _printed(capsys)
    assert "nothing is deployed" in note and "processes" in note
    services = found["services"]
    # One entry per service folder, in order; the business licence's is checked in full.
    folders = sorted(path.parent.name for path in (ROOT / "processes").glob("*/service.toml"))
    assert isinstance(services, list) and [s["process"] for s in services] == folders
    [licence] = [s for s in services if s["process"] == "business_licence"]
    assert ENTRY_KEYS | {"process"} <= set(licence)
    assert all(isinstance(licence[k], int) for k in ENTRY_KEYS)
    total = found["total"]
    assert isinstance(total, dict) and set(total) >= ENTRY_KEYS and "process" not in total
    # The business licence as marked today: the union visit, the identity documents, the
    # criminal-record trip and certificate, the service card and (by the issued licence) the pickup
    # are replaced; the inspection stays (irreducible).
    assert {k: licence[k] for k in sorted(ENTRY_KEYS)} == {
        "avoidable_after": 0, "avoidable_before": 3, "documents_after": 4, "documents_before": 8,
        "fields_asked": 3, "fields_prefilled": 4, "irreducible": 1, "offices_after": 0, "offices_before": 2,
        "visits_after": 1, "visits_before": 4}


def test_json_from_what_is_deployed(env: Settings, runtime: Runtime, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    deploy_service(runtime, service_folder(tmp_path))
    found, note = _printed(capsys)
    assert "counted from the services deployed in" in note
    services = found["services"]
    assert isinstance(services, list) and [(s["process"], s["version"]) for s in services] == [("trial", 1)]
    folders, note = _printed(capsys, "--processes", str(tmp_path))
    assert "service folders under" in note
    assert folders["total"] == found["total"]


def test_the_table(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["impact"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["process", "visits", "avoidable", "irreducible", "documents", "offices", "fields",
                                "fetched", "fields", "asked"]
    assert lines[1].split() == ["business_licence", "4", "→", "1", "3", "→", "0", "1", "→", "1", "8", "→", "4", "2",
                                "→", "0", "4", "3"]
    services = len(list((ROOT / "processes").glob("*/service.toml")))
    assert lines[1 + services].startswith("total ")
    # The totals sum every service of the catalogue, which grows; their sentences are checked by shape.
    assert any(re.fullmatch(r"avoidable visits removed: \d+ of \d+, \d+% \(target 80%: (met|not met)\)", line)
               for line in lines), lines
    assert any(re.fullmatch(r"identity, address and ownership fields fetched from agencies: \d+ of \d+, \d+% "
                            r"\(target 60%: (met|not met)\)", line) for line in lines), lines


def test_the_readme_shows_the_table_as_printed(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["impact"]) == 0
    printed = capsys.readouterr().out.strip()
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## The ledger of visits", 1)[1]
    shown = section.split("```\n", 1)[1].split("```", 1)[0].strip()
    assert shown == printed, "update the table in the README's 'The ledger of visits' to what panjereh impact prints"
