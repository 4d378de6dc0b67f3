"""Decisions reach the citizen: the case page, /track and "My applications" say how a case
stands (a status tag), and once decided the decision, the reason staff wrote and what next."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from connectors.sdk import ConnectorError
from engine.db.models import Notification
from engine.services import notifications
from engine.services.notify import send_sms
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.payments.gateway import pay_in_portal
from tests.web.journey import CITIZEN, MOBILE, PDF, csrf, ready_catalogue, sign_in, text

REASON = "نشانی محل با سند مطابقت ندارد"


def _send(client: TestClient, runtime: Runtime) -> tuple[str, str]:
    """A retail shop (no inspection) sent by the citizen, its fee paid: the case URL and its tracking code."""
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    page = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    base = str(page.url).rsplit("/pages/", 1)[0]
    for number, answer in enumerate(({"business_name": "لوازم‌التحریر مهر"}, {"activity": "retail"},
                                     {"area_m2": "25"})):
        page = client.post(f"{base}/pages/{number}", data={"csrf_token": csrf(page.text), **answer})
        assert page.status_code == 200, page.text
    page = client.post(f"{base}/pages/3", data={"csrf_token": csrf(page.text)},
                       files={"premises_document": ("lease.pdf", PDF, "application/pdf")})
    sent = client.post(f"{base}/check", data={"csrf_token": csrf(page.text)})
    code = re.search(r'class="tracking-code"[^>]*>([^<]+)<', sent.text)
    assert code, sent.text
    digits = code.group(1).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")).replace(" ", "")
    case_url = str(sent.url).split("?")[0]
    waiting = client.get(case_url)
    assert 'class="tag tag-waiting_for_you"' in waiting.text, "the fee is the citizen's to pay"
    assert pay_in_portal(client, urlsplit(case_url).path).status_code == 200
    return case_url, digits


def _review(client: TestClient, token: str, **answers: str) -> None:
    staff = TestClient(client.app)
    page = staff.get("/staff/sign-in")
    staff.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": token})
    inbox = staff.get("/staff")
    link = re.search(r'href="(/staff/tasks/[0-9a-f-]+)"', inbox.text).group(1)  # type: ignore[union-attr]
    task = staff.get(link)
    done = staff.post(link, data={"csrf_token": csrf(task.text), **answers})
    assert done.status_code == 200, done.text


def _track(client: TestClient, digits: str) -> str:
    other = TestClient(client.app)
    form = other.get("/track")
    found = other.post("/track", data={"csrf_token": csrf(form.text), "tracking_code": digits,
                                       "national_code": CITIZEN})
    assert found.status_code == 200, found.text
    return text(found.text)


def test_a_refusal_shows_the_reason_staff_wrote_and_what_to_do_next(client: TestClient, runtime: Runtime,
                                                                     tokens: Tokens) -> None:
    case_url, digits = _send(client, runtime)
    waiting = text(client.get(case_url).text)
    assert "در حال رسیدگی" in waiting and "رد شد" not in waiting
    _review(client, tokens.staff_guild, review_outcome="reject", review_reason=REASON)

    case = client.get(case_url)
    shown = text(case.text)
    assert 'class="tag tag-refused"' in case.text
    assert "درخواست شما رد شد" in shown and REASON in shown, shown
    assert "دلیل آن در پرونده آمده است" not in shown
    assert "می‌توانید درخواست تازه‌ای بفرستید" in shown
    assert "پایان یافته" not in shown and "رسیدگی به پایان رسید" not in shown

    tracked = _track(client, digits)
    assert "رد شد" in tracked and REASON in tracked

    client.get("/lang/en")
    english = text(client.get(case_url).text)
    assert "Refused" in english and "Your application was refused" in english and REASON in english
    assert "What to do next" in english and "Finished" not in english

    cases = client.get("/cases")
    assert 'class="tag tag-refused"' in cases.text


def test_an_approval_is_tagged_approved_with_no_reason_block(client: TestClient, runtime: Runtime,
                                                            tokens: Tokens) -> None:
    case_url, digits = _send(client, runtime)
    _review(client, tokens.staff_guild, review_outcome="approve")
    case = client.get(case_url)
    assert 'class="tag tag-approved"' in case.text
    shown = text(case.text)
    assert "تأیید شد: پروانه کسب شما صادر شد" in shown and "دلیل اعلام‌شده" not in shown
    assert "تأیید شد" in _track(client, digits)


def test_a_started_but_unsent_application_is_a_draft_not_in_progress(client: TestClient,
                                                                    runtime: Runtime) -> None:
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    first = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    base = str(first.url).rsplit("/pages/", 1)[0]
    client.post(f"{base}/pages/0", data={"csrf_token": csrf(first.text), "business_name": "خیاطی نو"})
    cases = client.get("/cases")
    assert 'class="tag tag-draft"' in cases.text and "در حال رسیدگی" not in text(cases.text)


def _messages(runtime: Runtime, case_url: str) -> list[Notification]:
    with runtime.reading() as session:
        return list(session.execute(select(Notification).where(Notification.instance_id == case_url.rsplit("/", 1)[1])
                                    .order_by(Notification.id)).scalars())


def test_each_status_change_texts_the_citizen_once_and_the_case_page_lists_it(
        client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    case_url, digits = _send(client, runtime)
    sent = _messages(runtime, case_url)
    # Sent; then the fee to pay (once paid, the case is in progress again: nothing new to say).
    assert [m.status for m in sent] == ["in_progress", "waiting_for_you"], [m.key for m in sent]
    assert sent[0].recipient == MOBILE and sent[0].sent_at is not None and sent[0].gateway_id
    assert digits in sent[0].body and "صدور پروانه کسب" in sent[0].body

    client.get("/lang/en")
    _review(client, tokens.staff_guild, review_outcome="reject", review_reason=REASON)
    told = _messages(runtime, case_url)
    assert [m.status for m in told] == ["in_progress", "waiting_for_you", "refused"]
    assert told[2].lang == "en" and told[2].body.startswith("Panjereh: your application for Business licence")
    assert REASON in told[2].body and told[2].sent_at is not None

    # A second sweep finds nothing pending, and sends nothing again.
    assert notifications.deliver_pending(runtime) == 0
    assert notifications.deliver_ids(runtime, [m.id for m in told]) == 0
    assert [m.attempts for m in _messages(runtime, case_url)] == [1, 1, 1]

    page = text(client.get(case_url).text)
    assert "Messages sent to you" in page and page.count("SMS sent on") == 3 and REASON in page


def test_a_message_the_gateway_could_not_take_is_kept_and_sent_later(
        client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    real = notifications.send_sms

    def down(*args: object, **kwargs: object) -> str:
        raise ConnectorError("unavailable", "the gateway is down", retryable=True)

    monkeypatch.setattr(notifications, "send_sms", down)
    case_url, _ = _send(client, runtime)
    kept = _messages(runtime, case_url)
    assert len(kept) == 2 and all(m.sent_at is None and m.claimed_at is None for m in kept)
    assert all("the gateway is down" in (m.last_error or "") for m in kept)
    assert "پیامک در صف فرستادن است" in text(client.get(case_url).text)

    monkeypatch.setattr(notifications, "send_sms", real)
    assert notifications.deliver_pending(runtime) == 2
    again = _messages(runtime, case_url)
    assert len(again) == 2 and all(m.sent_at is not None and m.attempts == 2 for m in again)
    assert notifications.deliver_pending(runtime) == 0


def test_a_message_is_claimed_by_one_sender_and_the_gateway_dedups_a_resend(
        client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    case_url, _ = _send(client, runtime)
    message = _messages(runtime, case_url)[0]
    with runtime.unit_of_work() as session:
        session.execute(update(Notification).values(sent_at=None, claimed_at=None))
    keys: list[str] = []

    def sending(*args: object, idempotency_key: str, **kwargs: object) -> str:
        keys.append(idempotency_key)
        # A second sender arriving while the first is mid-send finds the message taken.
        assert notifications.deliver_ids(runtime, [message.id]) == 0
        return "sms-test"

    monkeypatch.setattr(notifications, "send_sms", sending)
    assert notifications.deliver_ids(runtime, [message.id]) == 1
    assert keys == [f"panjereh-notify-{message.key}"]

    # The real gateway (over HTTP) answers a resend with the same key with the same message.
    first = send_sms(runtime, MOBILE, "test", purpose="test", idempotency_key="panjereh-notify-test")
    assert send_sms(runtime, MOBILE, "test", purpose="test", idempotency_key="panjereh-notify-test") == first
