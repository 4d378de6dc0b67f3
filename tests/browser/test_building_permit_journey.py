"""The building permit through the portal in a real Chromium, in Persian: the demo citizen signs in,
sees their deed, zoning and address fetched with their sources, answers, pays the first instalment
at the simulated gateway, the municipality checks the plans and inspects the site, the citizen pays
the second instalment, sees the decision and downloads the permit. axe-core and the hand-written
checks (`tests/browser/audit.py`) report nothing on any page."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser

from engine.web.i18n import translator
from tests.browser.audit import Auditor
from tests.browser.test_accessibility import go, new_context, on, persian, sign_in
from tests.fixtures import Tokens
from tests.web.journey import PDF

pytestmark = pytest.mark.browser

SERVICE = "building_permit"
ANSWERS = {"floors": persian("4"), "built_area_m2": persian("480"), "designer_membership": "01-10-12345"}


def answer_questions(audit: Auditor) -> None:
    page, number = audit.page, 0
    first = page.inner_text("main")
    # Fetched, never asked: the owner, the deed and the parcel's address, each with the agency it came from.
    for fetched in ("علی رضایی", persian("4521"), "خیابان ولیعصر", "از سازمان ثبت اسناد و املاک", "از شهرداری"):
        assert fetched in first, first
    while "/pages/" in page.url:
        number += 1
        audit.check(f"permit-question-{number}")
        for control in page.locator("main form [name]:not([type=hidden])").all():
            name, kind = control.get_attribute("name") or "", control.get_attribute("type")
            if kind == "file":
                control.set_input_files({"name": "plans.pdf", "mimeType": "application/pdf", "buffer": PDF})
            elif kind == "checkbox":
                page.click(f'label[for="{control.get_attribute("id")}"]')
            elif kind == "radio":
                continue
            else:
                control.fill(ANSWERS[name])
        asked = page.url
        go(page)
        refused = page.locator(".error-summary")
        assert page.url != asked or not refused.count(), (
            f"question page {number} refused its answer: {refused.inner_text() if refused.count() else page.url}")
        assert number < 20, "the question pages do not end"
    assert page.url.endswith("/check"), page.url


PAY_BUTTON = 'main form[action$="/pay"] button'


def pay(audit: Auditor, name: str) -> None:
    page, case = audit.page, audit.page.url
    # The gateway's token is asked right after the step before commits; until it is in, the case
    # page says the payment is being prepared, and the citizen opens the page again.
    deadline = time.monotonic() + 30
    while not page.locator(PAY_BUTTON).count():
        assert time.monotonic() < deadline, page.inner_text("main")
        time.sleep(0.2)
        page.reload()
    go(page, PAY_BUTTON)
    assert "/sandbox/payment/pay/" in page.url, page.url
    audit.check(f"permit-gateway-{name}")
    page.fill("#card_number", "6037991234567893")
    go(page, 'button[value="pay"]')
    assert "/payments/callback" in page.url, page.url
    audit.check(f"permit-paid-{name}")
    go(page, f'main a[href="{urlsplit(case).path}"]')
    audit.check(f"permit-case-paid-{name}")


def staff_work(audit: Auditor, tokens: Tokens) -> None:
    page = audit.page
    page.goto("/staff")
    page.fill("#f-token", tokens.staff_municipality)
    go(page)
    assert page.url.endswith("/staff"), page.url
    audit.check("permit-staff-inbox")
    go(page, "main table a")
    audit.check("permit-plan-check")
    # The designer's licence, as the engineering organisation gave it.
    assert "مهندس سارا کریمی" in page.inner_text("main")
    page.check('input[value="approve"]')
    go(page)
    page.goto("/staff")
    go(page, "main table a")
    audit.check("permit-site-inspection")
    page.check('input[name="inspection_passed"]')
    page.fill('[name="inspection_note"]', "حدود ملک با سند می‌خواند")
    go(page)
    assert "/tasks/" not in page.url, page.url


def test_the_demo_citizen_gets_a_building_permit(chromium: Browser, axe_script: Path, screenshots: Path, server: str,
                                                tokens: Tokens) -> None:
    t = translator("fa")
    citizen = new_context(chromium, server, "fa", axe_script)
    page = citizen.new_page()
    audit = Auditor(page, "fa", axe_script, screenshots)
    try:
        page.goto(f"/services/{SERVICE}")
        audit.check("permit-service")
        go(page)
        sign_in(audit, "fa")
        assert page.url.endswith(f"/services/{SERVICE}"), page.url
        go(page)
        answer_questions(audit)
        audit.check("permit-check")
        go(page)
        assert "submitted=1" in page.url, page.url
        case_url = page.url.split("?")[0]
        page.goto(case_url)
        for _ in range(150):  # the fee is asked by a connector call that runs after the answer is sent
            if "۴۸٬۰۰۰٬۰۰۰ ریال" in page.inner_text("main"):
                break
            page.wait_for_timeout(200)
            page.goto(case_url)
        audit.check("permit-case")
        assert "۴۸٬۰۰۰٬۰۰۰ ریال" in page.inner_text("main"), "the first instalment, half the table's fee"
        pay(audit, "first")

        staff = new_context(chromium, server, "fa", axe_script)
        staff_work(on(audit, staff.new_page()), tokens)
        staff.close()

        page.goto(case_url)
        pay(audit, "second")
        page.goto(case_url)
        assert t("outcome.tag_approved") in page.inner_text("main"), page.inner_text("main")
        audit.check("permit-decided")
        link = page.locator(f'main a[href^="{urlsplit(case_url).path}/documents/"]').first
        href = link.get_attribute("href")
        assert href is not None
        cookies = {c["name"]: c["value"] for c in citizen.cookies()}
        pdf = httpx.get(f"{server}{href}", cookies=cookies, timeout=30)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.status_code
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        citizen.close()
        print(f"\n{len(audit.checked)} pages checked: {', '.join(audit.checked)}")
    assert not audit.problems, f"{len(audit.problems)} accessibility problems:\n" + "\n".join(audit.problems)
