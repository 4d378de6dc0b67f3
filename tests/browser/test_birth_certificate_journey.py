"""The birth registration through the portal in Chromium, in Persian, with axe on every page.

The demo father signs in, sees what the hospital and the civil registry hold (never asked), chooses
a name the registry refuses and then one it accepts, signs the declaration, pays at the simulated
gateway and downloads the birth certificate. A second walk is the staff path: parents without a
registered marriage, a civil registry clerk confirms the marriage, the mother's partner goes on.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from engine.web.i18n import translator
from tests.browser.audit import Auditor
from tests.browser.test_accessibility import ascii_digits, go, new_context, on, persian, wait_for
from tests.payments.gateway import mobile_of
from tests.web.journey import CITIZEN, MOBILE

pytestmark = pytest.mark.browser

SERVICE = "birth_certificate"


def sign_in_as(audit: Auditor, national_code: str, mobile: str) -> None:
    page = audit.page
    assert "/sign-in" in page.url, page.url
    page.fill("#f-national_code", persian(national_code))
    page.fill("#f-mobile", persian(mobile))
    go(page)
    assert "/sign-in/code" in page.url, page.url
    outbox = page.context.new_page()
    outbox.goto("/dev/outbox")
    texts = [ascii_digits(t) for t in outbox.locator(".outbox-text").all_inner_texts()]
    outbox.close()
    found = re.search(r"\d{6}", texts[0]) if texts else None
    assert found, "no sign-in code in the outbox"
    page.fill("#f-code", persian(found.group(0)))
    go(page)
    assert "/sign-in" not in page.url, f"the code was refused: {page.url}"


def answer(audit: Auditor, name: str, values: dict[str, str], ticks: tuple[str, ...] = ()) -> None:
    """Each question page of one task: audited, answered, then the check page sent."""
    page, number = audit.page, 0
    assert "/pages/" in page.url, page.url
    while "/pages/" in page.url:
        number += 1
        audit.check(f"birth-{name}-{number}")
        for field, value in values.items():
            if page.locator(f'main [name="{field}"]').count():
                page.fill(f'main [name="{field}"]', value)
        for field in ticks:
            if page.locator(f'main [name="{field}"]').count():
                page.check(f'main input[name="{field}"]')
        go(page)
        assert number < 10, "the question pages do not end"
    assert page.url.endswith("/check"), page.url
    audit.check(f"birth-{name}-check")
    go(page)


def next_task(page: Page) -> None:
    """Go on to the case's next task once the registry has answered (its calls run after the answer is sent)."""
    if "/pages/" in page.url:
        return
    case = re.sub(r"(/cases/[^/?]+).*", r"\1", page.url)
    for _ in range(100):
        page.goto(case + "/next")
        if "/pages/" in page.url:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no task came: {page.inner_text('main')}")


def pay(audit: Auditor) -> None:
    page = audit.page
    case = re.sub(r"[?#].*", "", page.url)
    wait_for(page, 'main form[action$="/pay"] button')
    go(page, 'main form[action$="/pay"] button')
    assert "/sandbox/payment/pay/" in page.url, page.url
    audit.check("birth-gateway")
    page.fill("#card_number", "6037991234567893")
    go(page, 'button[value="pay"]')
    assert "/payments/callback" in page.url, page.url
    audit.check("birth-payment-done")
    page.goto(case)


def download_certificate(page: Page) -> None:
    link = page.locator('main a[href*="/documents/"]')
    assert link.count() == 1, page.inner_text("main")
    got = page.request.get(link.get_attribute("href") or "")
    assert got.status == 200 and got.headers["content-type"] == "application/pdf"
    assert got.body().startswith(b"%PDF")


def finish(audit: Auditor) -> None:
    assert not audit.problems, f"{len(audit.problems)} accessibility problems:\n" + "\n".join(audit.problems)


def test_the_demo_father_registers_his_daughter(chromium: Browser, axe_script: Path, screenshots: Path,
                                                server: str) -> None:
    t = translator("fa")
    context = new_context(chromium, server, "fa", axe_script)
    page = context.new_page()
    audit = Auditor(page, "fa", axe_script, screenshots)
    try:
        page.goto(f"/services/{SERVICE}")
        audit.check("birth-service")
        go(page)
        sign_in_as(audit, CITIZEN, MOBILE)
        assert page.url.endswith(f"/services/{SERVICE}"), page.url
        go(page)
        # The agencies may still be answering: the case page comes first then.
        next_task(page)
        # What the hospital and the registry hold is shown, with its source, and never asked.
        assert "/pages/0" in page.url, page.url
        answer(audit, "name", {"child_first_name": "ملکه"})
        next_task(page)  # a refused name is asked again, with the registry's reason
        assert "عنوان یا لقب" in page.inner_text("main")
        answer(audit, "name-again", {"child_first_name": "ستاره"})
        next_task(page)
        answer(audit, "confirm", {}, ticks=("declaration_confirmed",))
        assert "?submitted=1" in page.url, page.url
        page.goto(page.url.split("?")[0])
        audit.check("birth-case-to-pay")
        pay(audit)
        main = page.inner_text("main")
        assert t("outcome.tag_approved") in main, main
        audit.check("birth-case-registered")
        download_certificate(page)
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        context.close()
    finish(audit)


def test_a_clerk_confirms_an_unregistered_marriage(chromium: Browser, axe_script: Path, screenshots: Path,
                                                   server: str, runtime: Runtime) -> None:
    t = translator("fa")
    father = "0081500041"
    with runtime.unit_of_work() as session:
        clerk = create_token(session, "staff", "clerk-civil_registry-browser", "civil_registry")
    citizen = new_context(chromium, server, "fa", axe_script)
    page = citizen.new_page()
    audit = Auditor(page, "fa", axe_script, screenshots)
    try:
        page.goto(f"/services/{SERVICE}")
        go(page)
        sign_in_as(audit, father, mobile_of(father))
        go(page)
        assert "?submitted=1" in page.url, f"the clerk's review comes first: {page.url}"
        case = page.url.split("?")[0]
        audit.check("birth-waiting-for-clerk")

        staff = new_context(chromium, server, "fa", axe_script)
        desk = on(audit, staff.new_page())
        desk.page.goto("/staff/sign-in")
        desk.page.fill("#f-token", clerk)
        go(desk.page)
        desk.check("birth-staff-inbox")
        go(desk.page, "main table a")
        desk.check("birth-staff-review")
        assert "ثبت نشده" in desk.page.inner_text("main")
        desk.page.check('input[value="confirmed"]')
        go(desk.page)
        assert "/tasks/" not in desk.page.url, desk.page.url
        staff.close()

        next_task(page)
        answer(audit, "staff-path-name", {"child_first_name": "سینا"})
        next_task(page)
        answer(audit, "staff-path-confirm", {}, ticks=("declaration_confirmed",))
        page.goto(case)
        pay(audit)
        assert t("outcome.tag_approved") in page.inner_text("main")
        download_certificate(page)
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        citizen.close()
    finish(audit)
