"""Documents belong to cases: an upload is bound to the case and task whose accepted answer named
it; staff read only documents of cases where their agency has a task, without any listing limit,
and an upload already part of one case cannot be given in another."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from engine.app import build_app
from engine.db.models import HumanTaskRow, Instance, Upload
from engine.services.runtime import Runtime
from engine.services.tracking import new_tracking_code
from tests.api.test_deploy_and_run import complete, ready_tasks
from tests.fixtures import Tokens, serve
from tests.payments.gateway import pay
from tests.web.journey import PDF, csrf, ready_catalogue

FOOD = {"business_name": "نان سنگک", "activity": "food", "area_m2": 40}  # the municipality inspects
RETAIL = {"business_name": "لوازم التحریر", "activity": "retail", "area_m2": 30}  # the guild only


def _upload(client: Any, tokens: Tokens, name: str = "lease.pdf") -> str:
    response = client.post("/api/v1/uploads", files={"file": (name, PDF, "application/pdf")},
                           headers=tokens.headers("citizen"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _case(client: Any, tokens: Tokens) -> tuple[str, str]:
    """A business licence case of the citizen, waiting for their application: its id and task id."""
    started = client.post("/api/v1/processes/business_licence/instances", json={"data": {}},
                          headers=tokens.headers("citizen"))
    assert started.status_code == 201, started.text
    deadline = time.monotonic() + 30
    while not (ready := ready_tasks(client, tokens, started.json()["id"], role="citizen")):
        # On a real server the registry and the post are asked after the start commits.
        assert time.monotonic() < deadline, "the application task never came"
        time.sleep(0.05)
    return str(started.json()["id"]), str(ready[0]["id"])


def _staff(client: TestClient, token: str) -> TestClient:
    staff = TestClient(client.app)
    page = staff.get("/staff/sign-in")
    signed = staff.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": token})
    assert signed.status_code == 200, signed.text
    return staff


def _reads(staff: TestClient, upload_id: str) -> bool:
    response = staff.get(f"/staff/uploads/{upload_id}")
    assert response.status_code in (200, 404), response.status_code
    if response.status_code == 200:
        assert response.content == PDF and response.headers["content-type"] == "application/pdf"
    return response.status_code == 200


def test_staff_read_only_documents_given_in_their_agencys_cases(client: TestClient, runtime: Runtime,
                                                                tokens: Tokens) -> None:
    ready_catalogue(runtime)
    food, food_task = _case(client, tokens)
    retail, retail_task = _case(client, tokens)
    lease, deed, never_given = _upload(client, tokens), _upload(client, tokens), _upload(client, tokens, "id.pdf")
    complete(client, tokens, food_task, {**FOOD, "premises_document": lease}, role="citizen")
    complete(client, tokens, retail_task, {**RETAIL, "premises_document": deed}, role="citizen")
    for case in (food, retail):
        assert pay(client, tokens.headers("citizen"), case).status_code == 200
    municipality = _staff(client, tokens.staff_municipality)
    guild = _staff(client, tokens.staff_guild)

    assert _reads(municipality, lease), "the document of the case they inspect"
    assert not _reads(municipality, deed), "a case the municipality has no task in"
    assert not _reads(municipality, never_given), "a document never given in any case"
    assert _reads(guild, deed)
    assert not _reads(guild, lease), "the guild has no task in the food case yet"
    assert not _reads(guild, never_given)

    [inspect] = ready_tasks(client, tokens, food, role="staff_municipality")
    complete(client, tokens, inspect["id"], {"inspection_passed": True}, role="staff_municipality")
    assert _reads(guild, lease), "the guild reviews the food case now"
    with runtime.reading() as session:
        bound = {u.id: (u.instance_id, u.task_id) for u in session.execute(select(Upload)).scalars()}
    assert bound == {lease: (food, food_task), deed: (retail, retail_task), never_given: (None, None)}
    assert retail  # the retail case is reached through its task only


def test_a_document_of_one_case_cannot_be_given_in_another(client: TestClient, runtime: Runtime,
                                                           tokens: Tokens) -> None:
    ready_catalogue(runtime)
    _, first_task = _case(client, tokens)
    second, second_task = _case(client, tokens)
    lease = _upload(client, tokens)
    complete(client, tokens, first_task, {**FOOD, "premises_document": lease}, role="citizen")
    reused = client.post(f"/api/v1/tasks/{second_task}/complete", headers=tokens.headers("citizen"),
                         json={"data": {**FOOD, "premises_document": lease}})
    assert reused.status_code == 422, reused.text
    assert [e["field"] for e in reused.json()["errors"]] == ["premises_document"]
    assert "another application" in reused.json()["errors"][0]["message"]
    assert [t["id"] for t in ready_tasks(client, tokens, second, role="citizen")] == [second_task]
    fresh = _upload(client, tokens)
    complete(client, tokens, second_task, {**FOOD, "premises_document": fresh}, role="citizen")


def test_two_cases_racing_for_one_document_one_wins(runtime: Runtime, tokens: Tokens) -> None:
    ready_catalogue(runtime)
    with serve(build_app(runtime)) as url, httpx.Client(base_url=url, timeout=60) as http:
        tasks = [_case(http, tokens)[1] for _ in range(2)]
        lease = _upload(http, tokens)
        barrier = Barrier(len(tasks))

        def send(task_id: str) -> int:
            with httpx.Client(base_url=url, timeout=60) as own:
                barrier.wait()
                return int(own.post(f"/api/v1/tasks/{task_id}/complete", headers=tokens.headers("citizen"),
                                    json={"data": {**FOOD, "premises_document": lease}}).status_code)

        with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
            statuses = sorted(pool.map(send, tasks))
    assert statuses == [200, 422]
    with runtime.reading() as session:
        row = session.get(Upload, lease)
        assert row is not None and row.task_id in tasks


def test_staff_reach_documents_of_an_old_case_past_any_listing(client: TestClient, runtime: Runtime,
                                                               tokens: Tokens) -> None:
    """The agency has 1,001 newer cases of other people; its case from before is still its own."""
    ready_catalogue(runtime)
    food, food_task = _case(client, tokens)
    lease = _upload(client, tokens)
    complete(client, tokens, food_task, {**FOOD, "premises_document": lease}, role="citizen")
    assert pay(client, tokens.headers("citizen"), food).status_code == 200
    with runtime.unit_of_work() as session:
        case = session.get(Instance, food)
        assert case is not None
        later = case.created_at + timedelta(minutes=1)
        ids = [str(uuid.uuid4()) for _ in range(1001)]
        session.execute(insert(Instance), [
            {"id": i, "definition_id": case.definition_id, "deployment_id": case.deployment_id,
             "process_key": case.process_key, "version": case.version, "status": "waiting",
             "tracking_code": new_tracking_code(), "owner": f"{n:010d}", "data": {}, "state": "",
             "serializer_version": "", "library_version": "", "lock_version": 1, "created_at": later,
             "updated_at": later} for n, i in enumerate(ids)])
        session.execute(insert(HumanTaskRow), [
            {"id": str(uuid.uuid4()), "instance_id": i, "spec_id": "inspect", "name": "inspect", "title": "inspect",
             "kind": "UserTask", "audience": "agency", "agency": "municipality", "status": "ready",
             "created_at": later} for i in ids])
    assert _reads(_staff(client, tokens.staff_municipality), lease)
