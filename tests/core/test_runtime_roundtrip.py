"""Every model runs the same whether or not its state is saved and restored between steps
(SpiffWorkflow's own save/restore pattern), and a restored workflow keeps the sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.core import catch_events
from engine.core.execution import Execution, make_script_engine
from engine.core.sandbox import SandboxedEnvironment
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.fixtures import MODELS, ROOT

CASES = [
    (["approval.bpmn"], "approval", {},
     {"request": {"amount": 5000, "channel": "both"}, "manager_approval": {}, "attach": {"iban": "x"}}),
    (["parent.bpmn", "document_check.bpmn", "permit_fee.dmn"], "parent", {"kind": "building", "area": 150},
     {"upload": {"deed_number": "9"}}),
    (["counter_loop.bpmn"], "counter_loop", {"rounds": 50}, {}),
    ([str(p) for p in sorted((ROOT / "processes" / "business_licence").iterdir())
      if p.suffix in (".bpmn", ".dmn", ".json")], "business_licence", {"applicant_national_code": "0013542419"},
     {"apply": {"business_name": "x", "activity": "retail", "area_m2": 500,
     "premises_document": "0d6f3c1e-2b8a-4c39-9a7e-5b1f2e3d4c5a"}, "inspect": {"inspection_passed": True},
      "review": {"review_outcome": "approve"}}),
]


AGENCY_ANSWERS = {
    "fetch_person": {"national_code": "0013542419", "first_name": "علی", "last_name": "رضایی", "father_name": "حسن",
                     "birth_date": "1365/04/12", "gender": "male", "alive": True, "postal_code": "1193653471"},
    "fetch_address": {"postal_code": "1193653471", "province": "تهران", "city": "تهران", "street": "خیابان انقلاب",
                      "alley": "کوچه لاله", "plaque": 12, "floor": 3, "unit": 7},
    "check_criminal_record": {"national_code": "0013542419", "has_record": False, "category": "none",
                              "certificate_number": "1405-8740-4045-1899", "disqualifies": False},
    "check_military_service": {"national_code": "0013542419", "status": "completed", "card_number": "5044939170",
                               "gender": "male", "birth_date": "1365/04/12"},
    "issue_document": {"document_id": "6f1c2d3e-0000-4000-8000-000000000001", "kind": "business_licence", "serial": 1,
                       "code": "K7MPQ2XRT4HC", "issued_on": "2026-12-07", "valid_until": "2028-12-07"},
    "request_payment": {"token": "5f1c0a", "order_id": "panjereh-1", "amount_rial": 3_000_000,
                        "payment_url": "http://gateway.test/pay/5f1c0a", "expires_in_s": 1200},
}
MESSAGES = {"payment_verified": {"token": "5f1c0a", "amount_rial": 3_000_000, "reference": "718539481881"}}


def _package(names: list[str]) -> Any:
    files = [UploadedFile(name.rsplit("/", 1)[-1], (MODELS / name).read_bytes()) for name in names]
    loaded, report = check(files, Settings())
    assert loaded is not None, report.problems
    return loaded.compiled


def _run(names: list[str], key: str, data: dict[str, Any], answers: dict[str, Any], restore: bool) -> Execution:
    package = _package(names)
    engine = make_script_engine()
    execution = Execution.start(package, key, data, engine)
    execution.advance()
    while execution.service_calls() or execution.human_tasks() or catch_events.message_waits(execution):
        if restore:
            state, version = execution.dump()
            json.loads(state)
            execution = Execution.restore(package, key, state, version, make_script_engine())
            assert isinstance(execution.workflow.script_engine.environment, SandboxedEnvironment)
        calls, tasks = execution.service_calls(), execution.human_tasks()
        if calls:
            execution.complete_service_task(calls[0].task_id, AGENCY_ANSWERS[calls[0].spec_id])
        elif tasks:
            execution.complete_human_task(tasks[0].id, answers[tasks[0].spec_id])
        else:
            name = catch_events.message_waits(execution)[0].name
            assert catch_events.catch_message(execution, name, MESSAGES[name], None)
    return execution


@pytest.mark.parametrize("names, key, data, answers", CASES, ids=[c[1] for c in CASES])
def test_save_and_restore_between_every_step(names: list[str], key: str, data: dict[str, Any],
                                             answers: dict[str, Any]) -> None:
    straight = _run(names, key, data, answers, restore=False)
    restored = _run(names, key, data, answers, restore=True)
    assert straight.status == restored.status == "completed"
    assert straight.data == restored.data


def test_deep_gateway_loop_is_not_silently_truncated() -> None:
    execution = _run(["counter_loop.bpmn"], "counter_loop", {"rounds": 400}, {}, restore=False)
    assert execution.status == "completed"
    assert execution.data["counter"] == 400


def test_newer_state_is_refused() -> None:
    from engine.core.serialization import StateVersionError

    package = _package(["counter_loop.bpmn"])
    execution = Execution.start(package, "counter_loop", {"rounds": 1}, make_script_engine())
    state, _ = execution.dump()
    with pytest.raises(StateVersionError, match="newer than this engine"):
        Execution.restore(package, "counter_loop", state, "9.0", make_script_engine())
