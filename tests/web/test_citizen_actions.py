"""The citizen's own actions: a draft resumed or deleted, a sent application withdrawn."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import AuditEvent, Notification
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.web.journey import csrf, ready_catalogue, sign_in, text
from tests.web.test_outcomes import _review, _send


def _start(client: TestClient) -> TestClient:
    service = client.get("/services/business_licence")
    return client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})


def _case_id(url: str) -> str:
    found = re.search(r"/cases/([0-9a-f-]{36})", url)
    assert found, url
    return found.group(1)


def test_start_again_resumes_the_draft_and_a_deleted_draft_leaves_the_list(client: TestClient,
                                                                          runtime: Runtime) -> None:
    ready_catalogue(runtime)
    sign_in(client, runtime)
    first = _start(client)
    case_id = _case_id(str(first.url))
    client.post(str(first.url), data={"csrf_token": csrf(first.text), "business_name": "خیاطی نو"})
    again = _start(client)
    assert _case_id(str(again.url)) == case_id, "Start again opens the same draft"
    assert 'value="خیاطی نو"' in again.text

    listed = client.get("/cases")
    assert listed.text.count("tag-draft") == 1 and f"/cases/{case_id}/delete" in listed.text

    confirm = client.get(f"/cases/{case_id}/delete")
    assert confirm.status_code == 200 and "این پیش‌نویس پاک شود؟" in text(confirm.text)
    deleted = client.post(f"/cases/{case_id}/delete", data={"csrf_token": csrf(confirm.text)})
    assert deleted.status_code == 200 and "پیش‌نویس پاک شد" in text(deleted.text)
    assert case_id not in deleted.text
    fresh = _start(client)
    assert _case_id(str(fresh.url)) != case_id
    with runtime.reading() as session:
        actions = session.execute(select(AuditEvent.action).where(AuditEvent.instance_id == case_id)).scalars()
        assert "instance.draft_deleted" in set(actions)


def test_a_sent_application_can_be_withdrawn_until_it_is_decided(client: TestClient, runtime: Runtime,
                                                                 tokens: Tokens) -> None:
    case_url, _ = _send(client, runtime)
    case_id = _case_id(case_url)
    assert f"/cases/{case_id}/delete" not in client.get(case_url).text, "a sent application is not a draft"
    assert client.get(f"/cases/{case_id}/delete").status_code == 409
    confirm = client.get(f"/cases/{case_id}/withdraw")
    assert confirm.status_code == 200
    done = client.post(f"/cases/{case_id}/withdraw", data={"csrf_token": csrf(confirm.text)})
    assert done.status_code == 200 and 'class="tag tag-withdrawn"' in done.text
    assert "شما این درخواست را پس گرفتید" in text(done.text)
    assert f"/cases/{case_id}/withdraw" not in done.text, "nothing left to withdraw"
    with runtime.reading() as session:
        told = list(session.execute(select(Notification.status).where(Notification.instance_id == case_id)
                                    .order_by(Notification.id)).scalars())
        actions = set(session.execute(select(AuditEvent.action).where(AuditEvent.instance_id == case_id)).scalars())
    assert told == ["in_progress", "withdrawn"] and "instance.withdrawn" in actions

    decided_url, _ = _send(client, runtime)
    _review(client, tokens.staff_guild, review_outcome="approve")
    decided = _case_id(decided_url)
    late = client.get(f"/cases/{decided}/withdraw")
    assert late.status_code == 409 and "دیگر پس گرفته نمی‌شود" in text(late.text)
    refused = client.post(f"/cases/{decided}/withdraw", data={"csrf_token": csrf(late.text)})
    assert refused.status_code == 409
    assert 'class="tag tag-approved"' in client.get(decided_url).text
