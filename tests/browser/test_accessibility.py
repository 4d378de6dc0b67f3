"""Every page of the citizen's journey, the staff inbox and the analyst console, in Persian and in
English, in a real
Chromium: axe-core's WCAG 2.0/2.1/2.2 A and AA rules report nothing, and the hand-written
checks of `tests/browser/audit.py` pass. A full-page screenshot of each page is left in
`tests/browser/screenshots/<lang>-<page>.png` to look at.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page

from engine.web.i18n import translator
from engine.web.session import LANG_COOKIE
from tests.browser.audit import DESKTOP, PERSIAN_DIGITS, Auditor, with_axe
from tests.fixtures import Tokens
from tests.web.journey import CITIZEN, MOBILE, PDF
from tests.web.test_analyst import BROKEN_CONDITION, service_files

pytestmark = pytest.mark.browser

SERVICE = "business_licence"
SUBMIT = "main form button[type=submit]"


def persian(text: str) -> str:
    return text.translate(str.maketrans("0123456789", PERSIAN_DIGITS))


def ascii_digits(text: str) -> str:
    return text.translate(str.maketrans(PERSIAN_DIGITS, "0123456789"))


def answers(lang: str) -> dict[str, str]:
    """What the citizen types, by field name; a Persian citizen types Persian digits."""
    number = persian if lang == "fa" else str
    return {"business_name": "نان سنگک بربری" if lang == "fa" else "Barbari Bakery",
            "activity": "retail",  # a small shop: no inspection, so the guild union's review comes next
            "area_m2": number("45")}


def new_context(browser: Browser, server: str, lang: str, axe: Path | None = None) -> BrowserContext:
    """A visitor's browser context in `lang`; with `axe`, axe-core is in each of its pages already."""
    context = browser.new_context(base_url=server, viewport=DESKTOP, bypass_csp=True)
    if axe is not None:
        with_axe(context, axe)
    context.set_default_timeout(15_000)
    if lang != "fa":
        context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": server}])
    return context


def go(page: Page, selector: str = SUBMIT) -> None:
    """Click a link or a form's button and wait for the page it loads."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def wait_for(page: Page, selector: str, seconds: float = 30) -> None:
    """Reload until `selector` is on the page: the agencies (and the bank gateway's token)
    answer the case between two pages, later on a loaded machine."""
    deadline = time.monotonic() + seconds
    while not page.locator(selector).count():
        assert time.monotonic() < deadline, f"{selector} never appeared on {page.url}"
        time.sleep(0.2)
        page.reload()


def on(audit: Auditor, page: Page) -> Auditor:
    """An auditor for another tab that adds to the same lists."""
    return dataclasses.replace(audit, page=page)


def sign_in(audit: Auditor, lang: str) -> None:
    page = audit.page
    assert "/sign-in" in page.url, page.url
    audit.check("sign-in")
    page.fill("#f-national_code", "0013542410")  # the check digit is wrong
    go(page)
    audit.check("sign-in-errors", errors=True)
    page.fill("#f-national_code", persian(CITIZEN) if lang == "fa" else CITIZEN)
    page.fill("#f-mobile", MOBILE)
    go(page)
    assert "/sign-in/code" in page.url, page.url
    audit.check("sign-in-code")

    outbox = page.context.new_page()
    outbox.goto("/dev/outbox")
    on(audit, outbox).check("outbox")
    found = re.search(r"\d{6}", ascii_digits(outbox.locator(".outbox-text").first.inner_text()))
    assert found, "no sign-in code in the outbox"
    code = found.group(0)
    outbox.close()

    page.fill("#f-code", code[:-1] + str((int(code[-1]) + 1) % 10))
    go(page)
    audit.check("sign-in-code-error", errors=True)
    page.fill("#f-code", persian(code) if lang == "fa" else code)
    go(page)
    assert "/sign-in" not in page.url, f"the code was refused: {page.url}"

    contact = page.context.new_page()
    contact.goto("/account")
    on(audit, contact).check("account")
    contact.fill("#f-email", "name@example")
    go(contact)
    on(audit, contact).check("account-error", errors=True)
    contact.close()


def answer_questions(audit: Auditor, lang: str) -> None:
    """One question per page: each is audited as shown, then sent empty, then answered."""
    page, given, number = audit.page, answers(lang), 0
    assert "/pages/0" in page.url, f"the service did not open its first question page: {page.url}"
    while "/pages/" in page.url:
        number += 1
        audit.check(f"question-{number}")
        go(page)
        assert "/pages/" in page.url
        audit.check(f"question-{number}-error", errors=True)
        for control in page.locator("main form [name]:not([type=hidden])").all():
            name, kind = control.get_attribute("name") or "", control.get_attribute("type")
            if kind == "file":
                control.set_input_files({"name": "lease.pdf", "mimeType": "application/pdf", "buffer": PDF})
            elif kind in ("radio", "checkbox"):
                if control.get_attribute("value") == given.get(name):
                    page.click(f'label[for="{control.get_attribute("id")}"]')  # the label is part of the target
            else:
                control.fill(given.get(name, "x"))
        asked = page.url
        go(page)
        refused = page.locator(".error-summary")
        assert page.url != asked or not refused.count(), (
            f"question page {number} refused its answer: {refused.inner_text() if refused.count() else page.url}")
        assert number < 20, "the question pages do not end"
    assert number >= 4, f"only {number} question pages"
    assert page.url.endswith("/check"), page.url


def staff_review(audit: Auditor, tokens: Tokens) -> None:
    page = audit.page
    demo = page.context.new_page()
    demo.goto("/dev/staff")
    on(audit, demo).check("demo-staff")
    demo.close()
    page.goto("/staff")
    assert "/staff/sign-in" in page.url
    audit.check("staff-sign-in")
    page.fill("#f-token", "pj_not-a-real-key")
    go(page)
    audit.check("staff-sign-in-error", errors=True)
    page.fill("#f-token", tokens.staff_guild)
    go(page)
    assert page.url.endswith("/staff"), page.url
    audit.check("staff-inbox")
    go(page, "main table a")
    audit.check("staff-task")
    go(page)
    audit.check("staff-task-error", errors=True)
    page.check('input[value="approve"]')
    go(page)
    assert "/staff" in page.url and "/tasks/" not in page.url, page.url


def pay_the_fee(audit: Auditor) -> None:
    """Cancel on the bank gateway's page, then pay: the gateway's page (another system's, in Persian
    whatever the portal's language), each return to the portal and the case page are audited."""
    page, case = audit.page, audit.page.url
    gateway = dataclasses.replace(audit, lang="fa")
    go(page, 'main form[action$="/pay"] button')
    assert "/sandbox/payment/pay/" in page.url, page.url
    gateway.check("gateway")
    go(page, 'button[value="cancel"]')
    assert "/payments/callback" in page.url, page.url
    audit.check("payment-cancelled")
    go(page, f'main a[href="{urlsplit(case).path}"]')
    audit.check("case-pay-again")
    go(page, 'main form[action$="/pay"] button')
    page.fill("#card_number", "1234")
    go(page, 'button[value="pay"]')
    gateway.check("gateway-card-refused")
    page.fill("#card_number", "6037991234567893")
    go(page, 'button[value="pay"]')
    assert "/payments/callback" in page.url, page.url
    audit.check("payment-done")
    audit.digits("payment-done", "main .panel p:last-child")
    go(page, f'main a[href="{urlsplit(case).path}"]')
    audit.check("case-paid")
    audit.digits("case-paid", ".payment .notice")


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_every_page_passes_wcag_22_aa(lang: str, chromium: Browser, axe_script: Path, screenshots: Path,
                                      server: str, tokens: Tokens) -> None:
    t = translator(lang)
    citizen = new_context(chromium, server, "fa", axe_script)  # in English too: the header's link switches, below
    page = citizen.new_page()
    audit = Auditor(page, lang, axe_script, screenshots)
    try:
        # The catalogue, switched to English by the link in the header as a visitor would.
        page.goto("/")
        if lang != "fa":
            go(page, f'.site-nav a[hreflang="{lang}"]')
        audit.check("catalogue")
        page.fill("#q", "پروانه" if lang == "fa" else "licence")
        go(page, "form[role=search] button")
        audit.check("catalogue-search")
        go(page, f'main a[href="/services/{SERVICE}"]')
        audit.check("service")

        # Start before signing in: sign-in first, and back to the service afterwards.
        go(page)
        sign_in(audit, lang)
        assert page.url.endswith(f"/services/{SERVICE}"), page.url
        audit.check("service-signed-in")
        go(page)
        answer_questions(audit, lang)
        audit.check("check")
        go(page)
        assert "submitted=1" in page.url, page.url
        audit.check("confirmation")
        tracking = audit.digits("confirmation", ".tracking-code")
        assert len(tracking) == 12, tracking
        case_url = page.url.split("?")[0]
        page.goto(case_url)
        audit.check("case")
        audit.digits("case", ".tracking-inline")
        pay_the_fee(audit)
        go(page, '.site-nav a[href="/cases"]')
        audit.check("cases")
        audit.digits("cases", "main td.nowrap")
        page.goto(case_url + "/withdraw")
        audit.check("withdraw-confirm")

        staff = new_context(chromium, server, lang, axe_script)
        staff_review(on(audit, staff.new_page()), tokens)
        staff.close()
        page.goto(case_url)
        assert t("outcome.tag_approved") in page.inner_text("main"), page.inner_text("main")
        audit.check("case-decided")

        visitor = new_context(chromium, server, lang, axe_script)
        track = on(audit, visitor.new_page())
        track.page.goto("/")
        go(track.page, '.site-nav a[href="/track"]')
        track.check("track")
        track.page.fill("#f-tracking_code", "12345")
        go(track.page)
        track.check("track-errors", errors=True)
        track.page.fill("#f-tracking_code", persian(tracking) if lang == "fa" else tracking)
        track.page.fill("#f-national_code", CITIZEN)
        go(track.page)
        assert t("outcome.tag_approved") in track.page.inner_text("main"), track.page.inner_text("main")
        track.check("track-result")
        track.digits("track-result", "main p span[dir=ltr]")
        missing = track.page.goto("/services/no_such_service")
        assert missing is not None and missing.status == 404
        track.check("not-found")
        unknown = track.page.goto("/no/such/address")
        assert unknown is not None and unknown.status == 404
        track.check("unknown-address")
        visitor.close()
    except BaseException:
        print("\n".join(audit.problems))  # what was found before the journey broke off
        raise
    finally:
        citizen.close()
        print(f"\n{lang}: {len(audit.checked)} pages checked: {', '.join(audit.checked)}")
    assert not audit.problems, (f"{len(audit.problems)} accessibility problems in {lang}:\n"
                                + "\n".join(audit.problems))


def chosen_files(replace: tuple[str, str] | None = None) -> list[FilePayload]:
    return [{"name": name, "mimeType": kind, "buffer": content} for _, (name, content, kind) in service_files(replace)]


def analyst_console(audit: Auditor, tokens: Tokens) -> None:
    """Sign in with a key, upload nothing, upload a broken model, then check and deploy good ones."""
    page = audit.page
    page.goto("/analyst")
    assert "/analyst/sign-in" in page.url, page.url
    audit.check("analyst-sign-in")
    page.fill("#f-token", tokens.staff_guild)  # a staff key does not open the console
    go(page)
    audit.check("analyst-sign-in-error", errors=True)
    page.fill("#f-token", tokens.analyst)
    go(page)
    assert page.url.endswith("/analyst"), page.url
    audit.check("analyst-console")
    go(page, 'main button[value="check"]')
    audit.check("analyst-upload-error", errors=True)
    page.set_input_files("#f-files", chosen_files((BROKEN_CONDITION, "review_outcome ==")))
    go(page, 'main button[value="check"]')
    assert "/analyst/uploads/" in page.url, page.url
    audit.check("analyst-report-not-deployable")
    page.goto("/analyst")
    page.set_input_files("#f-files", chosen_files())
    go(page, 'main button[value="check"]')
    audit.check("analyst-report")
    if page.locator(".filter-nav a[href*='status=']").count():  # only when the importer lists elements
        go(page, ".filter-nav a[href*='status=']")
        assert "status=" in page.url and "#elements" in page.url, page.url
        # The link jumps to the table, which moves where Tab starts; audit the page as loaded afresh.
        page.goto(page.url.split("#")[0])
        audit.check("analyst-report-filtered")
    go(page, 'main form[action$="/deploy"] button')
    assert "deployed=new" in page.url, page.url
    audit.check("analyst-deployment")
    go(page, '.site-nav a[href="/analyst"]')
    audit.check("analyst-deployments")
    audit.digits("analyst-deployments", "main tbody th a")


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_analyst_console_passes_wcag_22_aa(lang: str, chromium: Browser, axe_script: Path, screenshots: Path,
                                               server: str, tokens: Tokens) -> None:
    context = new_context(chromium, server, lang, axe_script)
    audit = Auditor(context.new_page(), lang, axe_script, screenshots)
    try:
        analyst_console(audit, tokens)
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        context.close()
        print(f"\n{lang}: {len(audit.checked)} analyst pages checked: {', '.join(audit.checked)}")
    assert not audit.problems, (f"{len(audit.problems)} accessibility problems in {lang}:\n"
                                + "\n".join(audit.problems))


def test_the_checks_find_planted_problems(chromium: Browser, axe_script: Path, tmp_path: Path) -> None:
    """The checker itself: axe and the hand-written checks see what they are there to see."""
    page = chromium.new_page(viewport=DESKTOP)
    try:
        page.set_content("""<html lang="en" dir="ltr"><head><title>Planted</title></head><body>
            <a class="skip-link" href="#main">Skip</a><main id="main" tabindex="-1"><h1>Planted</h1>
            <img src="data:,"><div class="form-group"><p class="hint" id="h">Hint</p><input id="i"></div>
            <button style="padding: 0">x</button></main></body></html>""")
        audit = Auditor(page, "fa", axe_script, tmp_path)
        audit.check("planted")
        page.set_content("""<html lang="en" dir="ltr"><head><title>Error: Planted</title></head><body>
            <main id="main"><div class="error-summary" tabindex="-1"><h2>There is a problem</h2>
            <a href="#box">Say more</a></div><h1>Planted</h1><div id="box"><label for="t">Say</label>
            <input id="t"></div><div style="inline-size: 30rem">wide</div></main></body></html>""")
        english = Auditor(page, "en", axe_script, tmp_path)
        english.check("planted-errors", errors=True)
    finally:
        page.close()
    found = "\n".join(audit.problems + english.problems)
    for expected in ("axe image-alt", "axe label", "input#i has no label", "p#h.hint “Hint” is not in any",
                     "target button", "<html lang> is “en”, expected “fa”", "<html dir> is “ltr”",
                     "the error summary does not have focus", "the error link #box leaves focus",
                     "at 320 CSS px the page scrolls sideways"):
        assert expected in found, f"{expected!r} not found in:\n{found}"
