"""The public check of a document and the holder's case page with it, in Persian and in English, in
a real Chromium: axe-core reports nothing and the checks of `tests/browser/audit.py` pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from engine.services.document_codes import grouped, new_code
from engine.services.runtime import Runtime
from engine.web.i18n import translator
from tests.browser.audit import Auditor
from tests.browser.test_accessibility import go, new_context, persian, sign_in
from tests.fixtures import Tokens
from tests.licences import approved_licence, citizen_headers
from tests.web.journey import CITIZEN

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_verify_page_passes_wcag_22_aa(lang: str, chromium: Browser, axe_script: Path, screenshots: Path,
                                           server: str, client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    t = translator(lang)
    case, licence = approved_licence(client, runtime, tokens, citizen=citizen_headers(runtime, CITIZEN))
    holder = new_context(chromium, server, lang)
    audit = Auditor(holder.new_page(), lang, axe_script, screenshots)
    page = audit.page
    try:
        page.goto(f"/cases/{case}")
        sign_in(audit, lang)
        assert page.url.endswith(f"/cases/{case}"), page.url
        assert licence["code"] in page.inner_text("main")
        audit.check("case-with-licence")
        with page.expect_download() as download:
            page.click(f'main a[href="/cases/{case}/documents/{licence["id"]}"]')
        assert download.value.suggested_filename == "business_licence-000001.pdf"

        go(page, '.site-nav a[href="/verify"]')
        audit.check("verify")
        page.fill("#f-code", licence["code"][:-1])
        go(page)
        audit.check("verify-errors", errors=True)
        page.goto("/verify")
        page.fill("#f-code", persian(licence["code"].lower()) if lang == "fa" else licence["code"].lower())
        go(page)
        assert t("verify.result_valid") in page.inner_text("main"), page.inner_text("main")
        audit.check("verify-valid")
        page.goto(f"/verify?code={grouped(new_code())}")
        assert t("verify.unknown_title") in page.inner_text("main")
        audit.check("verify-unknown")
        revoked = client.post(f"/api/v1/documents/{licence['id']}/revoke", json={"reason": "صادر شده به اشتباه"},
                              headers=tokens.headers("staff_guild"))
        assert revoked.status_code == 200, revoked.text
        page.goto(f"/verify?code={licence['code']}")
        assert t("verify.result_revoked") in page.inner_text("main")
        audit.check("verify-revoked")
        page.goto(f"/cases/{case}")
        assert t("documents.status_revoked") in page.inner_text("main")
        audit.check("case-with-revoked-licence")
    except BaseException:
        print("\n".join(audit.problems))
        raise
    finally:
        holder.close()
        print(f"\n{lang}: {len(audit.checked)} pages checked: {', '.join(audit.checked)}")
    assert not audit.problems, (f"{len(audit.problems)} accessibility problems in {lang}:\n"
                                + "\n".join(audit.problems))
