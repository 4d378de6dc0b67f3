"""The vehicle transfer through the portal in Chromium, in Persian, with two citizens: the buyer
applies with the plate, the seller (the owner the registry names) signs in with their own national
code and mobile and consents, the buyer pays at the simulated gateway, the plate office approves,
and the buyer sees the decision and downloads the transfer certificate. axe-core and the checks of
`tests/browser/audit.py` find nothing on any page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from engine.web.i18n import translator
from tests.browser.audit import Auditor
from tests.browser.test_accessibility import ascii_digits, go, new_context, on, persian, wait_for

pytestmark = pytest.mark.browser

SERVICE = "vehicle_transfer"
BUYER, BUYER_MOBILE = "0013542419", "09121234567"
SELLER, SELLER_MOBILE = "9876543210", "09351234567"
ANSWERS = {"plate": "۱۲ ب ۳۴۵ ایران ۶۷", "sale_price_rial": persian("5000000000")}


def sign_in_as(audit: Auditor, name: str, national_code: str, mobile: str) -> None:
    """Sign in on the page the portal sent the visitor to, with the code from the development outbox."""
    page = audit.page
    assert "/sign-in" in page.url, page.url
    audit.check(f"{name}-sign-in")
    page.fill("#f-national_code", persian(national_code))
    page.fill("#f-mobile", persian(mobile))
    go(page)
    assert "/sign-in/code" in page.url, page.url
    outbox = page.context.new_page()
    outbox.goto("/dev/outbox")
    texts = [ascii_digits(t) for t in outbox.locator(".outbox-text").all_inner_texts()]
    outbox.close()
    found = next((m.group(0) for t in texts if (m := re.search(r"\d{6}", t))), None)
    assert found, "no sign-in code in the outbox"
    page.fill("#f-code", persian(found))
    go(page)
    assert "/sign-in" not in page.url, f"the code was refused: {page.url}"


def answer(audit: Auditor, name: str, answers: dict[str, str]) -> None:
    """Answer the question pages of a task, sending each empty first, up to its check page, and send."""
    page, number = audit.page, 0
    while "/pages/" in page.url:
        number += 1
        audit.check(f"{name}-question-{number}")
        if page.locator("main form [name]:not([type=hidden]):not([readonly])").count():
            go(page)
            audit.check(f"{name}-question-{number}-error", errors=True)
        for control in page.locator("main form [name]:not([type=hidden])").all():
            field, kind = control.get_attribute("name") or "", control.get_attribute("type")
            if field not in answers:
                continue
            if kind == "radio":
                if control.get_attribute("value") == answers[field]:
                    page.click(f'label[for="{control.get_attribute("id")}"]')
            else:
                control.fill(answers[field])
        asked = page.url
        go(page)
        refused = page.locator(".error-summary")
        assert page.url != asked or not refused.count(), refused.inner_text() if refused.count() else page.url
        assert number < 10, "the question pages do not end"
    assert page.url.endswith("/check"), page.url
    audit.check(f"{name}-check")
    go(page)


def test_buyer_and_seller_transfer_a_vehicle_in_persian(chromium: Browser, axe_script: Path, screenshots: Path,
                                                        server: str, runtime: Runtime) -> None:
    t = translator("fa")
    buyer = new_context(chromium, server, "fa", axe_script)
    page = buyer.new_page()
    audit = Auditor(page, "fa", axe_script, screenshots)
    try:
        page.goto(f"/services/{SERVICE}")
        audit.check("vehicle-service")
        go(page)
        sign_in_as(audit, "vehicle-buyer", BUYER, BUYER_MOBILE)
        go(page)
        for _ in range(100):  # the agencies may still be answering: the case page comes first then
            if "/pages/" in page.url:
                break
            page.wait_for_timeout(100)
            page.goto(re.sub(r"(/cases/[^/?]+).*", r"\1", page.url) + "/next")
        assert "/pages/0" in page.url, page.url
        assert "علی رضایی" in page.inner_text("main"), "the buyer's name is fetched, not asked"
        answer(audit, "vehicle-buyer", ANSWERS)
        assert "submitted=1" in page.url, page.url
        case_url = page.url.split("?")[0]
        audit.check("vehicle-confirmation")

        # The seller signs in with their own national code and mobile and finds the case waiting.
        seller_context = new_context(chromium, server, "fa", axe_script)
        seller = on(audit, seller_context.new_page())
        seller.page.goto("/cases")
        sign_in_as(seller, "vehicle-seller", SELLER, SELLER_MOBILE)
        wait_for(seller.page, f'main a[href="{case_url.split(server)[-1]}"]')
        seller.check("vehicle-seller-cases")
        go(seller.page, f'main a[href="{case_url.split(server)[-1]}"]')
        seller.check("vehicle-seller-case")
        assert t("status.party_note") in seller.page.inner_text("main")
        go(seller.page, "main a.button")
        assert "مریم حسینی" in seller.page.inner_text("main") and "علی رضایی" in seller.page.inner_text("main")
        answer(seller, "vehicle-seller", {"seller_decision": "agree"})
        # Told their answer is recorded, not that "your application" was received with a code.
        told = seller.page.inner_text("main")
        assert t("status.party_done") in told and t("case.your_code") not in told, told
        seller_context.close()

        # The buyer pays the fee from the table at the bank's gateway.
        page.goto(case_url)
        wait_for(page, 'main form[action$="/pay"] button')
        audit.check("vehicle-case-to-pay")
        go(page, 'main form[action$="/pay"] button')
        assert "/sandbox/payment/pay/" in page.url, page.url
        page.fill("#card_number", "6037991234567893")
        go(page, 'button[value="pay"]')
        assert "/payments/callback" in page.url, page.url
        audit.check("vehicle-payment-done")

        # The plate office approves with the buyer's plate.
        with runtime.unit_of_work() as session:
            key = create_token(session, "staff", "plate-office-1", "traffic_police")
        staff_context = new_context(chromium, server, "fa", axe_script)
        staff = on(audit, staff_context.new_page())
        staff.page.goto("/staff/sign-in")
        staff.page.fill("#f-token", key)
        go(staff.page)
        wait_for(staff.page, "main table a")
        staff.check("vehicle-staff-inbox")
        go(staff.page, "main table a")
        staff.check("vehicle-staff-task")
        staff.page.check('input[value="approve"]')
        go(staff.page)
        staff.check("vehicle-staff-task-error", errors=True)
        staff.page.check('input[value="approve"]')
        staff.page.fill('input[name="new_plate"]', "۲۴ ج ۶۸۲ ایران ۱۰")
        go(staff.page)
        assert "/tasks/" not in staff.page.url, staff.page.url
        staff_context.close()

        # The buyer sees the decision and downloads the certificate.
        page.goto(case_url)
        wait_for(page, "main a[download]")
        assert t("outcome.tag_approved") in page.inner_text("main"), page.inner_text("main")
        audit.check("vehicle-case-approved")
        certificate = page.request.get(page.locator("main a[download]").first.get_attribute("href") or "")
        assert certificate.status == 200 and certificate.body().startswith(b"%PDF")
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        buyer.close()
        print(f"\n{len(audit.checked)} pages checked: {', '.join(audit.checked)}")
    assert not audit.problems, f"{len(audit.problems)} accessibility problems:\n" + "\n".join(audit.problems)
