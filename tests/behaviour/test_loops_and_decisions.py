"""Standard loops, and DMN hit policies: what runs, and what is refused at deploy time."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.core.execution import Execution, make_script_engine
from engine.settings import Settings
from tests.behaviour.flow import compiled, complete, deploy, instance, ready, round_trip, start, stored
from tests.fixtures import Tokens


def test_standard_loop_repeats_until_condition_or_maximum() -> None:
    package = compiled("standard_loop.bpmn")
    execution = Execution.start(package, "standard_loop", {"tries": 0}, make_script_engine())
    execution.advance()
    rounds = 0
    while tasks := execution.human_tasks():
        assert [t.spec_id for t in tasks] == ["answer"]
        execution = round_trip(execution, package)
        rounds += 1
        execution.complete_human_task(execution.human_tasks()[0].id, {"complete": rounds == 2})
    assert rounds == 2, "the loop stops once the condition no longer holds"
    assert execution.data["tries"] == 5, "the script loop ran while tries < 5"

    execution = Execution.start(package, "standard_loop", {"tries": 0}, make_script_engine())
    execution.advance()
    rounds = 0
    while execution.human_tasks():
        execution = round_trip(execution, package)
        rounds += 1
        execution.complete_human_task(execution.human_tasks()[0].id, {"complete": False})
    assert rounds == 3, "loopMaximum caps the rounds"
    assert execution.status == "completed"


def test_standard_loop_through_the_api(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    deploy(client, tokens, "standard_loop.bpmn")
    started = start(client, tokens, "standard_loop", {"tries": 3})
    for answer in (False, True):
        [task] = ready(client, tokens, started["id"])
        assert [t.spec_id for t in stored(settings, started["id"]).human_tasks()] == ["answer"]
        complete(client, tokens, task["id"], {"complete": answer})
    done = instance(client, tokens, started["id"])
    assert done["status"] == "completed" and done["data"]["tries"] == 5


def test_supported_hit_policies(client: TestClient, tokens: Tokens, settings: Settings) -> None:
    deploy(client, tokens, "fees.bpmn", "fee_unique.dmn", "fee_first.dmn", "fee_collect.dmn")
    started = start(client, tokens, "fees")
    [task] = ready(client, tokens, started["id"])
    assert [t.spec_id for t in stored(settings, started["id"]).human_tasks()] == ["measure"]
    complete(client, tokens, task["id"], {"area": 120})
    data = instance(client, tokens, started["id"])["data"]
    assert data["fee_unique_fee"] == 500
    assert data["fee_first_fee"] == 500
    assert data["fee_collect_fee"] == [500, 200, 50]


def test_unsupported_hit_policies_are_refused_with_decision_and_line(client: TestClient, tokens: Tokens) -> None:
    refused = deploy(client, tokens, "fees_priority.bpmn", "fee_unique.dmn", "fee_first.dmn", "fee_priority.dmn",
                     "fee_sum.dmn", "fee_rule_order.dmn", expect=422)
    problems = {p["element_id"]: p for p in refused["report"]["problems"] if p["severity"] == "error"}
    assert "hit policy PRIORITY is not supported" in problems["fee_priority"]["message"]
    assert "aggregation SUM" in problems["fee_sum"]["message"]
    assert "hit policy RULE ORDER" in problems["fee_rule_order"]["message"]
    assert {problems[d]["file"] for d in ("fee_priority", "fee_sum", "fee_rule_order")} == {
        "fee_priority.dmn", "fee_sum.dmn", "fee_rule_order.dmn"}
    assert all(problems[d]["line"] == 5 for d in ("fee_priority", "fee_sum", "fee_rule_order"))
    assert "fee_unique" not in problems and "fee_first" not in problems
