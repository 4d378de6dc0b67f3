"""The `panjereh` command as an analyst or operator uses it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from engine.cli import main
from engine.security.principals import Principal, Role
from engine.services import instances
from engine.services.runtime import Runtime
from engine.settings import Settings, get_settings
from tests.api.test_immutable_deployments import flip_comparisons
from tests.fixtures import MODELS, ROOT, model_files


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings, runtime: Runtime) -> Settings:
    monkeypatch.setenv("PANJEREH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PANJEREH_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_validate_exit_codes_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["validate", str(MODELS / "approval.bpmn")]) == 0
    assert "deployable" in capsys.readouterr().out
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes((MODELS / "approval.bpmn").read_bytes().replace(b'targetRef="amount_join"', b'targetRef="x"'))
    assert main(["validate", "--json", str(broken)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["deployable"] is False and report["problems"]
    assert main(["validate", str(ROOT / "processes" / "business_licence")]) == 0


def test_run_prints_where_the_model_ends(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(MODELS / "approval.bpmn"), "--answers",
                 json.dumps({"request": {"amount": 50000, "channel": "email"}})])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "waiting"
    assert [w["task"] for w in result["waiting"]] == ["manager_approval"]
    assert result["path"][:3] == ["start", "request", "amount_gw"]
    code = main(["run", str(MODELS / "registry_lookup.bpmn"), "--data", '{"national_code": "0499370899"}',
                 "--results", '{"fetch_person": {"first_name": "Reza", "alive": true}}'])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["data"]["greeting"] == "Dear Reza"


def test_run_delivers_messages_to_the_catches_that_wait(capsys: pytest.CaptureFixture[str]) -> None:
    person = {"national_code": "0013542419", "first_name": "علی", "last_name": "رضایی", "father_name": "حسن",
              "birth_date": "1365/04/12", "gender": "male", "alive": True, "postal_code": "1193653471"}
    address = {"postal_code": "1193653471", "province": "تهران", "city": "تهران", "street": "خیابان انقلاب",
               "alley": "کوچه لاله", "plaque": 12}
    arguments = ["run", str(ROOT / "processes" / "business_licence"), "--data",
                 '{"applicant_national_code": "0013542419"}', "--answers", json.dumps({
                     "apply": {"business_name": "نان", "activity": "retail", "area_m2": 40,
                               "premises_document": "0d6f3c1e-2b8a-4c39-9a7e-5b1f2e3d4c5a"},
                     "review": {"review_outcome": "approve"}}), "--results", json.dumps({
                     "fetch_person": person, "fetch_address": address,
                     "check_criminal_record": {"national_code": "0013542419", "has_record": False, "category": "none",
                                               "certificate_number": "1405-8740-4045-1899", "disqualifies": False},
                     "check_military_service": {"national_code": "0013542419", "status": "completed",
                                                "card_number": "5044939170", "gender": "male",
                                                "birth_date": "1365/04/12"},
                     "issue_document": {"document_id": "d1", "kind": "business_licence", "serial": 1,
                                        "code": "A1B2C3D4", "issued_on": "1405/09/16", "valid_until": None},
                     "request_payment": {"token": "t1", "order_id": "o1", "amount_rial": 1_500_000,
                                         "payment_url": "http://gateway.test/pay/t1", "expires_in_s": 1200}})]
    assert main(arguments) == 0
    waiting = json.loads(capsys.readouterr().out)
    assert [(w["task"], w.get("message")) for w in waiting["waiting"] if w["kind"] == "message"] == [
        ("await_payment", "payment_verified")]
    assert main([*arguments, "--messages", '{"payment_verified": {"token": "t1", "amount_rial": 1500000}}']) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["status"] == "completed" and done["data"]["payment"]["token"] == "t1"
    assert done["data"]["licence_status"] == "approved"


def test_run_checks_answers_against_the_form(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(MODELS / "approval.bpmn"), "--answers", '{"request": {"amount": -5}}'])
    assert code == 1
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "waiting" and "amount" in result["error"]


def test_token_deploy_and_audit_verify(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["token", "create", "--role", "analyst", "--name", "nasrin"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("pj_") and len(token) > 40
    assert main(["token", "create", "--role", "staff", "--name", "clerk"]) == 1
    assert "--agency" in capsys.readouterr().err
    assert main(["deploy", str(ROOT / "processes" / "business_licence")]) == 0
    assert "business_licence v1" in capsys.readouterr().out
    assert main(["deploy", str(ROOT / "processes" / "business_licence")]) == 0
    assert "already deployed" in capsys.readouterr().out
    assert main(["deploy", str(MODELS / "parent.bpmn")]) == 1
    assert "not deployed" in capsys.readouterr().err
    assert main(["audit", "verify"]) == 0
    assert "chain intact" in capsys.readouterr().out


def test_redeploy_translates_again_only_what_changed(env: Settings, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["deploy", str(MODELS / "review_route.bpmn")]) == 0
    assert "deployment 1; review_route v1" in capsys.readouterr().out
    assert main(["redeploy", "1"]) == 0
    assert "unchanged: today's importer makes what deployment 1 already runs; review_route v1" in (
        capsys.readouterr().out)
    flip_comparisons(monkeypatch)
    assert main(["redeploy", "1"]) == 0
    assert "redeployed: deployment 2 translates deployment 1's files" in capsys.readouterr().out
    assert main(["redeploy", "7"]) == 1
    assert "not redeployed: no deployment 7" in capsys.readouterr().err


def test_migrate_one_instance_or_every_running_one_of_a_deployment(env: Settings, runtime: Runtime,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    for version in (1, 2, 3):
        assert main(["deploy", str(MODELS / "migration" / f"permit_v{version}.bpmn")]) == 0
        assert f"deployment {version}; permit v{version}" in capsys.readouterr().out
    with runtime.unit_of_work() as session:
        started = [instances.start(session, runtime, Principal(Role.ANALYST, "nasrin"), "permit", {}, 1).id
                   for _ in range(2)]
    assert main(["migrate", started[0], "--to", "2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "deployment 1 v1 -> deployment 2 v2: can move (dry run, nothing changed)" in out
    assert "review (ready): kept" in out and "added: archive, stamp" in out and "then waiting: task review" in out
    assert main(["migrate", started[0], "--to", "3"]) == 1
    err = capsys.readouterr().err
    assert "cannot move" in err and "  - the instance is at 'Review the application' (review) (ready)" in err
    assert main(["migrate", started[0], "--to", "3", "--dry-run"]) == 1
    assert "cannot move\n  - " in capsys.readouterr().out
    assert main(["migrate", started[0], "--to", "9"]) == 1
    assert "not migrated: no deployment 9" in capsys.readouterr().err
    assert main(["migrate", "--to", "2"]) == 2
    assert main(["migrate", "--all-of", "1", "--to", "2", "--json"]) == 0
    moved = json.loads(capsys.readouterr().out)
    assert [(o["instance_id"], o["migrated"], o["to"]["version"]) for o in moved] == [(i, True, 2) for i in started]
    assert main(["migrate", "--all-of", "1", "--to", "2"]) == 0
    assert "deployment 1 has no running instances" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0


def test_serve_deploys_the_catalogue_and_prints_its_url(settings: Settings, runtime: Runtime, tmp_path: Path) -> None:
    """`runtime` empties the shared PostgreSQL database first, as for every test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "PANJEREH_DATABASE_URL": settings.database_url, "PANJEREH_PUBLIC_URL": "",
                   "PANJEREH_VAR_DIR": str(tmp_path / "var"), "PANJEREH_PORT": str(port),
                   "PANJEREH_ADMIN_TOKEN": "serve-test-token-123456"}
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve"], cwd=ROOT, env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "running at" in line or not line:
                break
        assert any(f"http://127.0.0.1:{port}/" in line for line in lines), lines
        assert any("business_licence v1" in line for line in lines), lines
        for _ in range(100):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health.json()["status"] == "ok"
        processes = httpx.get(f"http://127.0.0.1:{port}/api/v1/processes",
                              headers={"Authorization": "Bearer serve-test-token-123456"}).json()
        # Every service folder of the catalogue, in order.
        assert [p["key"] for p in processes] == sorted(f.parent.name for f in ROOT.glob("processes/*/service.toml"))
        # The embedded server answers its own connectors: registry and post under /sandbox.
        admin = {"Authorization": "Bearer serve-test-token-123456"}
        started = httpx.post(f"http://127.0.0.1:{port}/api/v1/processes/business_licence/instances", headers=admin,
                             json={"data": {"applicant_national_code": "0013542419"}}, timeout=30).json()
        deadline = time.monotonic() + 30
        while True:  # connector calls run right after the request's transaction commits
            instance = httpx.get(f"http://127.0.0.1:{port}/api/v1/instances/{started['id']}", headers=admin).json()
            if "home_address" in instance["data"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert instance["data"].get("applicant_name") == "علی رضایی", instance
        assert "خیابان انقلاب" in instance["data"]["home_address"]
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout:
            server.stdout.close()


def test_token_names_and_agencies_fit_wherever_the_caller_is_recorded(env: Settings, runtime: Runtime,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from fastapi.testclient import TestClient

    from engine.app import build_app
    from engine.db import limits
    from engine.security.tokens import MAX_NAME

    assert main(["db", "upgrade"]) == 0
    longest = "ن" * MAX_NAME
    for args, words in ((["--role", "analyst", "--name", longest + "x"], f"at most {MAX_NAME}"),
                        (["--role", "staff", "--name", "clerk", "--agency", "a" * (limits.AGENCY.length + 1)],
                         "agency code"),
                        (["--role", "analyst", "--name", "tab\x00"], "NUL")):
        assert main(["token", "create", *args]) == 1
        assert words in capsys.readouterr().err
    assert main(["token", "create", "--role", "analyst", "--name", longest]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    # Every column that records who did something keeps this analyst as "analyst:<name>".
    with TestClient(build_app(runtime)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        deployed = client.post("/api/v1/deployments", headers=headers, files=model_files("approval.bpmn"))
        assert deployed.status_code == 201, deployed.text
        started = client.post("/api/v1/processes/approval/instances", json={"data": {}}, headers=headers)
        assert started.status_code == 201, started.text
