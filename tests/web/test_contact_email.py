"""News of a case by e-mail too: the citizen gives an address on their contact page, and every
status change is then e-mailed through the e-mail connector besides the text message, once."""

from __future__ import annotations

import uuid

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import AuditEvent
from engine.services import notifications
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.web.journey import CITIZEN, csrf, sign_in, text
from tests.web.test_outcomes import REASON, _messages, _review, _send

ADDRESS = "maryam.rezaei@example.ir"
MAIL_KEY = {"Authorization": "Bearer sandbox-mail-key"}


def test_an_address_is_checked_saved_and_audited_without_itself(client: TestClient, runtime: Runtime) -> None:
    sign_in(client, runtime)
    page = client.get("/account")
    assert page.status_code == 200 and "نشانی رایانامه" in text(page.text)
    for wrong in ("name@example", "two@@example.ir", "a b@example.ir", "x" * 250 + "@example.ir"):
        refused = client.post("/account", data={"csrf_token": csrf(page.text), "email": wrong})
        assert refused.status_code == 422, wrong
        assert "نشانی رایانامه را درست بنویسید، مثلاً name@example.ir" in text(refused.text)
    assert notifications.email_of(runtime, CITIZEN) is None, "nothing wrong is kept"
    saved = client.post("/account", data={"csrf_token": csrf(page.text), "email": " Maryam.Rezaei@Example.IR "})
    assert saved.status_code == 200 and "ذخیره شد" in text(saved.text)
    assert f'value="{ADDRESS}"' in saved.text and notifications.email_of(runtime, CITIZEN) == ADDRESS
    with runtime.reading() as session:
        [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "contact.email_changed")).scalars()
        assert event.actor == CITIZEN and event.detail == {"email": "given"}
        assert ADDRESS not in str(event.detail)


def test_each_status_change_is_emailed_too_once_and_listed_on_the_case(client: TestClient, runtime: Runtime,
                                                                       tokens: Tokens, agencies: str) -> None:
    # The simulated relay lives as long as the test session: an address of this test's own.
    address = f"maryam.{uuid.uuid4().hex[:8]}@example.ir"
    sign_in(client, runtime)
    page = client.get("/account")
    client.post("/account", data={"csrf_token": csrf(page.text), "email": address})
    case_url, digits = _send(client, runtime)
    sent = _messages(runtime, case_url)
    assert [(m.status, m.channel) for m in sent] == [
        ("in_progress", "sms"), ("in_progress", "email"), ("waiting_for_you", "sms"), ("waiting_for_you", "email")]
    emailed = [m for m in sent if m.channel == "email"]
    assert all(m.recipient == address and m.sent_at is not None and str(m.gateway_id).startswith("mail-")
               for m in emailed)
    relay = httpx.get(f"{agencies}/sandbox/mail/messages", params={"to": address}, headers=MAIL_KEY).json()["messages"]
    assert [m["text"] for m in relay] == [m.body for m in emailed], "each e-mailed once"
    assert digits in relay[0]["text"] and relay[0]["subject"] == "پنجره: خبر تازه درباره درخواست شما"
    assert text(client.get(case_url).text).count("رایانامه فرستاده شد در") == 2

    # No address any more: the decision is texted only.
    page = client.get("/account")
    client.post("/account", data={"csrf_token": csrf(page.text), "email": ""})
    assert notifications.email_of(runtime, CITIZEN) is None
    _review(client, tokens.staff_guild, review_outcome="reject", review_reason=REASON)
    assert [(m.status, m.channel) for m in _messages(runtime, case_url)][4:] == [("refused", "sms")]
