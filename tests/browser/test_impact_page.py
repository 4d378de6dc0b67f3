"""`/impact` in a real Chromium, in Persian and in English: axe-core's WCAG 2.2 AA rules and the
hand-written checks of `tests/browser/audit.py` find nothing, and the figures show the page's digits."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.audit import Auditor
from tests.browser.test_accessibility import go, new_context

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_ledger_of_visits_passes_wcag_22_aa(lang: str, chromium: Browser, axe_script: Path, screenshots: Path,
                                                server: str) -> None:
    context = new_context(chromium, server, lang, axe_script)
    page = context.new_page()
    audit = Auditor(page, lang, axe_script, screenshots)
    try:
        page.goto("/")
        go(page, 'footer a[href="/impact"]')
        assert page.url.endswith("/impact"), page.url
        audit.check("impact")
        audit.digits("impact", ".impact-targets li")
        for cell in range(1, 8):
            audit.digits("impact", f".impact-table tbody tr:first-child td:nth-child({cell + 1})")
        assert page.locator(".impact-table caption").inner_text().strip()
        page.click('.impact-table tbody th a[href$="#service-business_licence"]')
        page.wait_for_url("**/impact#service-business_licence")
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        context.close()
    assert not audit.problems, (f"{len(audit.problems)} accessibility problems in {lang}:\n"
                                + "\n".join(audit.problems))
