"""Multi-instance activities, parallel and sequential, in the BPMN form and as Camunda 7 and
Camunda 8 write them; state saved and restored between every step."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from lxml import etree

from engine.bpmn.loops import translate_loops
from engine.core.execution import Execution, make_script_engine
from engine.settings import Settings
from tests.behaviour.flow import compiled, deploy, instance, ready, round_trip, start, stored
from tests.fixtures import ADMIN_TOKEN, Tokens


def _run(names: list[str], key: str, data: dict[str, Any], answer: Any) -> tuple[Execution, list[list[str]]]:
    """Start, then answer the first ready task with `answer(task_data)` until done, round-tripping
    the state before each step; returns the execution and the ready task ids seen per step."""
    package = compiled(*names)
    execution = Execution.start(package, key, data, make_script_engine())
    execution.advance()
    seen = []
    while tasks := execution.human_tasks():
        seen.append([t.spec_id for t in tasks])
        execution = round_trip(execution, package)
        task = execution.human_tasks()[0]
        execution.complete_human_task(task.id, answer(execution.task_data(task.id)))
    return execution, seen


def test_parallel_user_tasks_are_ready_together_and_results_collected() -> None:
    verdicts = {"ali": "approve", "sara": "reject", "reza": "approve"}
    execution, seen = _run(["multi_instance.bpmn"], "mi_parallel_users", {"reviewers": list(verdicts)},
                           lambda data: {"verdict": verdicts[data["reviewer"]]})
    assert seen == [["review"] * 3, ["review"] * 2, ["review"]]
    assert execution.status == "completed"
    assert execution.data["verdicts"] == ["approve", "reject", "approve"]
    assert execution.data["approvals"] == 2


def test_sequential_by_cardinality_one_task_at_a_time() -> None:
    execution, seen = _run(["multi_instance.bpmn"], "mi_sequential", {"signers": 3},
                           lambda data: {"signature": f"signed {len(data.get('signatures', []))}"})
    assert seen == [["sign"], ["sign"], ["sign"]]
    assert execution.data["signatures"] == ["signed 0", "signed 1", "signed 2"]


def test_camunda7_collection_and_element_variable() -> None:
    execution, seen = _run(["mi_camunda7.bpmn"], "mi_camunda7", {"sites": ["north", "south"],
                                                                 "officers": ["o1", "o2", "o3"]},
                           lambda data: {"seen": data.get("site") or data.get("officer")})
    assert seen == [["inspect", "inspect"], ["inspect"], ["countersign"], ["countersign"], ["countersign"]]
    assert execution.status == "completed"
    assert execution.data["officers"] == ["o1", "o2", "o3"]
    assert "officer" not in execution.data and "site" not in execution.data


def test_camunda8_loop_characteristics_collect_output() -> None:
    prices = {"s1": 120, "s2": 90}
    execution, _ = _run(["mi_zeebe.bpmn"], "mi_zeebe", {"suppliers": list(prices)},
                        lambda data: ({"price": prices[data["supplier"]]} if "supplier" in data
                                      else {"confirmed": data["quoted"] < 100}))
    assert execution.data["quotes"] == [120, 90]
    assert execution.data["confirmations"] == [False, True]


def test_translation_notes_and_what_is_left_alone() -> None:
    root = etree.fromstring(b"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
        xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0">
      <bpmn:process id="p">
        <bpmn:userTask id="a"><bpmn:multiInstanceLoopCharacteristics camunda:collection="${items}"
            camunda:elementVariable="item"><bpmn:completionCondition>done</bpmn:completionCondition>
        </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
        <bpmn:userTask id="b"><bpmn:multiInstanceLoopCharacteristics
            camunda:collection="${registry.pending()}" camunda:elementVariable="item" /></bpmn:userTask>
        <bpmn:userTask id="c"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
          <zeebe:loopCharacteristics inputCollection="=for x in items return x.id" inputElement="item" />
        </bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
      </bpmn:process></bpmn:definitions>""")
    notes = dict(translate_loops(root))
    assert "→ loopDataInputRef 'items'" in notes["a"]
    assert "not converted" in notes["b"] and "→" not in notes["b"]
    assert "not converted" in notes["c"] and "→" not in notes["c"]
    bpmn = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    loop_a = root.find(f".//{bpmn}userTask[@id='a']/{bpmn}multiInstanceLoopCharacteristics")
    assert [etree.QName(c).localname for c in loop_a] == [
        "loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem", "completionCondition"]
    assert translate_loops(root) == [("b", notes["b"]), ("c", notes["c"])], "a second pass changes nothing"


def test_parallel_service_calls_park_together_through_the_api(client: TestClient, tokens: Tokens,
                                                               settings: Settings) -> None:
    deploy(client, tokens, "multi_instance.bpmn")
    started = start(client, tokens, "mi_parallel_service", {"codes": ["0013542419", "0499370899"]})
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    calls = [c for c in client.get("/api/v1/service-calls", headers=admin).json()
             if c["instance_id"] == started["id"]]
    assert sorted(c["params"]["national_code"] for c in calls) == ["0013542419", "0499370899"]
    assert len(stored(settings, started["id"]).service_calls()) == 2
    for call in sorted(calls, key=lambda c: c["params"]["national_code"], reverse=True):
        response = client.post(f"/api/v1/service-calls/{call['id']}/complete",
                               json={"result": {"name": f"person {call['params']['national_code']}"}}, headers=admin)
        assert response.status_code == 200, response.text
    done = instance(client, tokens, started["id"])
    assert done["status"] == "completed"
    # SpiffWorkflow appends results as instances finish (Camunda 8 would keep input order).
    assert done["data"]["people"] == [{"name": "person 0499370899"}, {"name": "person 0013542419"}]
    assert ready(client, tokens, started["id"]) == []
