"""The citizen's own actions: a draft resumed or deleted, a sent application withdrawn."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import AuditEvent, Notification
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.web.journey import (
    CITIZEN,
    MOBILE,
    PDF,
    challenge_of,
    csrf,
    ready_catalogue,
    sign_in,
    text,
    texted_code,
)
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
        told = session.execute(select(Notification.id).where(Notification.instance_id == case_id)).all()
        assert told == [], "a draft that was never sent is deleted without a message"
    assert "tag-withdrawn" in client.get(f"/cases/{case_id}").text


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
    assert told == ["in_progress", "waiting_for_you", "withdrawn"] and "instance.withdrawn" in actions

    decided_url, _ = _send(client, runtime)
    _review(client, tokens.staff_guild, review_outcome="approve")
    decided = _case_id(decided_url)
    late = client.get(f"/cases/{decided}/withdraw")
    assert late.status_code == 409 and "دیگر پس گرفته نمی‌شود" in text(late.text)
    refused = client.post(f"/cases/{decided}/withdraw", data={"csrf_token": csrf(late.text)})
    assert refused.status_code == 409
    assert 'class="tag tag-approved"' in client.get(decided_url).text



def _to_check(client: TestClient, runtime: Runtime) -> tuple[str, TestClient]:
    """A draft with every page answered, at its check page: the task's base URL and that page."""
    ready_catalogue(runtime)
    sign_in(client, runtime)
    page = _start(client)
    base = str(page.url).rsplit("/pages/", 1)[0]
    for number, answer in enumerate(({"business_name": "کافه پنجره"}, {"activity": "food"}, {"area_m2": "60"})):
        page = client.post(f"{base}/pages/{number}", data={"csrf_token": csrf(page.text), **answer})
    page = client.post(f"{base}/pages/3", data={"csrf_token": csrf(page.text)},
                       files={"premises_document": ("lease.pdf", PDF, "application/pdf")})
    assert str(page.url).endswith("/check"), page.url
    return base, page


def test_change_on_the_check_page_returns_to_the_check_page(client: TestClient, runtime: Runtime) -> None:
    base, check = _to_check(client, runtime)
    change = re.search(r'href="([^"]*/pages/0\?return_to=check)"', check.text)
    assert change, check.text
    edit = client.get(change.group(1))
    path = base.split("testserver", 1)[1]
    assert f'href="{path}/check"' in edit.text, "Back goes to the check page"
    assert 'name="return_to" value="check"' in edit.text
    saved = client.post(f"{base}/pages/0", data={"csrf_token": csrf(edit.text), "business_name": "کافه نو",
                                                 "return_to": "check"})
    assert str(saved.url).endswith("/check") and "کافه نو" in text(saved.text)


def test_errors_name_the_field_not_the_question(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    client.get("/lang/en")
    sign_in(client, runtime)
    first = _start(client)
    empty = client.post(str(first.url), data={"csrf_token": csrf(first.text), "business_name": ""})
    assert empty.status_code == 422
    shown = text(empty.text)
    assert "Enter your business name" in shown, shown
    assert "What is the name of your business?" not in shown.split("Enter", 1)[1].split("\n", 1)[0]
    for number, answer in enumerate(({"business_name": "Cafe"}, {"activity": "food"}, {"area_m2": "60"})):
        page = client.post(str(first.url).rsplit("/pages/", 1)[0] + f"/pages/{number}",
                           data={"csrf_token": csrf(first.text), **answer})
    no_file = client.post(str(first.url).rsplit("/pages/", 1)[0] + "/pages/3", data={"csrf_token": csrf(page.text)})
    assert no_file.status_code == 422 and "Upload the lease or deed of the premises" in text(no_file.text)
    client.get("/lang/fa")
    again = client.post(str(first.url), data={"csrf_token": csrf(first.text), "business_name": ""})
    assert "نام کسب‌وکار را وارد کنید" in text(again.text)


def _sign_in_from(client: TestClient, runtime: Runtime, sign_in_page: TestClient) -> TestClient:
    """Sign in through the form the visitor was sent to, carrying its `next` as the browser would."""
    found = re.search(r'name="next" value="([^"]*)"', sign_in_page.text)
    assert found, sign_in_page.text
    code_page = client.post("/sign-in", data={"csrf_token": csrf(sign_in_page.text), "national_code": CITIZEN,
                                              "mobile": MOBILE, "next": unescape(found.group(1))})
    carried = re.search(r'name="next" value="([^"]*)"', code_page.text)
    assert carried, code_page.text
    return client.post("/sign-in/code", data={"csrf_token": csrf(code_page.text), "code": texted_code(runtime),
                                              "challenge": challenge_of(code_page.text),
                                              "next": unescape(carried.group(1))})


def test_after_signing_in_the_citizen_lands_where_they_were_going(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    service = client.get("/services/business_licence")
    asked = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    assert "/sign-in" in str(asked.url)
    landed = _sign_in_from(client, runtime, asked)
    assert str(landed.url).endswith("/services/business_licence"), landed.url

    other = TestClient(client.app)
    form = other.get("/sign-in?next=//evil.example/phish")
    assert str(_sign_in_from(other, runtime, form).url).endswith("/cases"), "only a local path is followed"
