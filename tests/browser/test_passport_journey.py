"""The passport walked through the portal in Persian and in English, in a real Chromium with axe on every
page: the demo citizen signs in, sees what the agencies told about him, asks for an ordinary passport,
pays at the simulated bank gateway, books a biometrics slot from the office's free ones, the passport
office takes the biometrics and approves, and the citizen sees the decision and downloads the delivery
receipt, which prints the passport number, its validity and the post's tracking number."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from engine.web.i18n import translator
from tests.browser.audit import Auditor
from tests.browser.test_accessibility import ascii_digits, go, new_context, on, sign_in, wait_for
from tests.fixtures import Tokens
from tests.forms.pdf_text import lines
from tests.payments.gateway import PAYS

pytestmark = pytest.mark.browser

SERVICE = "passport"


def wait_for_question(page: Page, case_url: str, timeout: float = 30) -> None:
    """The case's next question page, once the agencies have answered (their calls run after the commit)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(case_url + "/next")
        if "/pages/" in page.url:
            return
        assert time.monotonic() < deadline, f"no question came: {page.url}"
        time.sleep(0.2)


def answer_and_check(audit: Auditor, name: str) -> None:
    """Send a choice's page empty (its error summary is audited), then answer: the first choice, or a few words."""
    page = audit.page
    audit.check(name)
    radios = page.locator("main form input[type=radio]")
    if radios.count():
        go(page)
        audit.check(f"{name}-error", errors=True)
        page.click(f'label[for="{radios.first.get_attribute("id")}"]')
    for area in page.locator("main form textarea").all():
        area.fill("گردشگری")
    go(page)
    assert "/check" in page.url or "/pages/" in page.url, page.url


def inbox_has_a_task(page: Page, what: str, timeout: float = 30) -> None:
    """The staff inbox, once a task is in it (the step before it may still be calling an agency)."""
    deadline = time.monotonic() + timeout
    while not page.locator("main table a").count():
        assert time.monotonic() < deadline, f"{what} did not reach the inbox"
        time.sleep(0.2)
        page.goto("/staff")


def staff_works(audit: Auditor, token: str) -> None:
    page = audit.page
    page.goto("/staff")
    page.fill("#f-token", token)
    go(page)
    assert page.url.endswith("/staff"), page.url
    inbox_has_a_task(page, "the biometrics")
    audit.check("staff-inbox")
    go(page, "main table a")
    audit.check("staff-biometrics")
    assert "BIO-" in page.inner_text("main")
    page.check("input[name=biometrics_taken]")
    go(page)
    assert "/tasks/" not in page.url, page.url
    inbox_has_a_task(page, "the police review")
    go(page, "main table a")
    audit.check("staff-review")
    page.check('input[value="approve"]')
    go(page)
    assert "/tasks/" not in page.url, page.url


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_passport_from_application_to_receipt(lang: str, chromium: Browser, axe_script: Path, screenshots: Path,
                                              server: str, runtime: Runtime, tokens: Tokens) -> None:
    t = translator(lang)
    citizen = new_context(chromium, server, lang, axe_script)
    page = citizen.new_page()
    audit = Auditor(page, lang, axe_script, screenshots)
    try:
        page.goto(f"/services/{SERVICE}")
        audit.check("passport-service")
        go(page)
        sign_in(audit, lang)
        assert page.url.endswith(f"/services/{SERVICE}"), page.url
        go(page)
        if "/pages/0" not in page.url:
            # The agencies' answers may still be on their way: the case page comes first then.
            wait_for_question(page, page.url.split("?")[0])
        assert "/pages/0" in page.url, page.url
        shown = page.inner_text("main")
        assert "علی رضایی" in shown and "کارت پایان خدمت" in shown and "ممنوعیت خروج ندارد" in shown, shown
        case_url = page.url.split("/tasks/")[0]
        while "/pages/" in page.url:
            answer_and_check(audit, f"passport-question-{page.url.rsplit('/', 1)[1]}")
        audit.check("passport-check")
        go(page)
        page.goto(case_url)
        wait_for(page, 'main form[action$="/pay"] button')
        audit.check("passport-case-fee")
        go(page, 'main form[action$="/pay"] button')
        assert "/sandbox/payment/pay/" in page.url, page.url
        page.fill("#card_number", PAYS)
        go(page, 'button[value="pay"]')
        assert "/payments/callback" in page.url, page.url
        audit.check("passport-paid")

        wait_for_question(page, case_url)
        assert ("پلیس+۱۰" if lang == "fa" else "Police+10 office") in page.inner_text("main")
        answer_and_check(audit, "passport-slot")
        audit.check("passport-slot-check")
        go(page)
        # The one visit left is on the case page, with its office and booking number.
        page.goto(case_url)
        booked = page.inner_text("main")
        assert ("نوبت انگشت‌نگاری و عکس" if lang == "fa" else "Biometrics appointment") in booked, booked
        assert ("شماره نوبت" if lang == "fa" else "booking number") in booked, booked
        audit.check("passport-booked")

        with runtime.unit_of_work() as session:
            clerk = create_token(session, "staff", "clerk-passport", "passport_office")
        staff = new_context(chromium, server, lang, axe_script)
        staff_works(on(audit, staff.new_page()), clerk)
        staff.close()

        deadline = time.monotonic() + 30
        while True:
            page.goto(case_url)
            if t("outcome.tag_approved") in page.inner_text("main") and page.locator("a[download]").count():
                break
            assert time.monotonic() < deadline, page.inner_text("main")
            time.sleep(0.2)
        audit.check("passport-approved")
        link = page.locator("a[download]").first.get_attribute("href")
        cookies = {c["name"]: c["value"] for c in citizen.cookies()}
        receipt = httpx.get(server.rstrip("/") + str(link), cookies=cookies, timeout=30)
        assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF"), receipt.status_code
        held = httpx.get(f"{server.rstrip('/')}/api/v1/instances/{case_url.rsplit('/', 1)[1]}",
                         headers=tokens.headers("admin"), timeout=30).json()["data"]
        printed = ascii_digits(" ".join(lines(receipt.content)))
        for shown in (held["passport"]["passport_number"], held["parcel"]["tracking_number"],
                      held["passport"]["valid_until_jalali"]):
            assert shown in printed, (shown, printed)
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        citizen.close()
        print(f"\n{len(audit.checked)} pages checked: {', '.join(audit.checked)}")
    assert not audit.problems, f"{len(audit.problems)} accessibility problems:\n" + "\n".join(audit.problems)
