"""The public check of an issued document: any way a person types the code, what it finds, the
limit per client, the log of every check, and what the holder sees of it on their case page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from engine.db.models import DocumentCheck, IssuedDocument
from engine.services import document_texts, verification
from engine.services.document_codes import ALPHABET, grouped, new_code, normalised
from engine.services.runtime import Runtime
from engine.web.session import LANG_COOKIE
from tests.fixtures import Tokens
from tests.licences import approved_licence, citizen_headers
from tests.web.journey import CITIZEN, csrf, sign_in, text
from tests.web.test_route_walk import OTHER_CITIZEN, OTHER_MOBILE

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _checks(runtime: Runtime) -> list[DocumentCheck]:
    with runtime.reading() as session:
        return list(session.execute(select(DocumentCheck).order_by(DocumentCheck.id)).scalars())


def _verify(client: TestClient, code: str, lang: str = "fa") -> Any:
    visitor = TestClient(client.app, cookies={LANG_COOKIE: lang})
    return visitor.get("/verify", params={"code": code})


@pytest.fixture
def licence(client: TestClient, runtime: Runtime, tokens: Tokens) -> dict[str, Any]:
    _, found = approved_licence(client, runtime, tokens)
    return found


def test_a_valid_code_shows_what_the_document_certifies(client: TestClient, runtime: Runtime,
                                                        licence: dict[str, Any]) -> None:
    page = _verify(client, licence["code"])
    assert page.status_code == 200, page.text
    shown = " ".join(text(page.text).split())
    for expected in ("این سند معتبر است", "پروانه کسب", "شماره ۰۰۰۰۰۱", "اتحادیه صنفی", "لوازم‌التحریر مهر",
                     licence["code"]):
        assert expected in shown, (expected, shown)
    # The holder's name only by the first letter of each part.
    masked = " ".join(part[0] + "*" * (len(part) - 1) for part in licence["holder_name"].split())
    assert licence["holder_name"] not in shown and masked in shown
    english = " ".join(text(_verify(client, licence["code"], "en").text).split())
    assert "This document is valid" in english and "Business licence" in english and "Guild union" in english


def test_the_code_is_read_however_it_is_typed(client: TestClient, runtime: Runtime, licence: dict[str, Any]) -> None:
    stored = normalised(licence["code"])
    for typed in (stored, stored.lower(), " ".join(stored[i:i + 4] for i in (0, 4, 8)),
                  licence["code"].replace("-", "\u2013"), f"  {licence['code'].lower()}  ",
                  licence["code"].translate(PERSIAN), licence["code"].translate(ARABIC),
                  "\u200c".join(grouped(stored).split("-"))):
        page = _verify(client, typed)
        assert page.status_code == 200 and "این سند معتبر است" in text(page.text), typed
    assert [c.code for c in _checks(runtime)] == [stored] * 8


def test_a_mistyped_code_is_told_apart_and_not_counted(client: TestClient, runtime: Runtime,
                                                       licence: dict[str, Any]) -> None:
    stored = normalised(licence["code"])
    swapped = stored[:5] + stored[6] + stored[5] + stored[7:] if stored[5] != stored[6] else stored[:-2] + "22"
    changed = stored[:3] + next(c for c in ALPHABET if c != stored[3]) + stored[4:]
    for typed in ("ABC", stored + "X", stored.replace(stored[0], "O"), swapped, changed, "<script>"):
        page = _verify(client, typed)
        assert page.status_code == 422, typed
        assert "کد تصدیق را درست وارد کنید" in text(page.text)
    assert _checks(runtime) == []


def test_a_code_nobody_was_issued_says_so(client: TestClient, runtime: Runtime, licence: dict[str, Any]) -> None:
    unknown = next(code for code in iter(new_code, None) if code != normalised(licence["code"]))
    page = _verify(client, grouped(unknown))
    assert page.status_code == 404
    assert "سندی با این کد صادر نشده است" in text(page.text) and grouped(unknown) in text(page.text)
    [check] = _checks(runtime)
    assert (check.code, check.result, check.document_id) == (unknown, "unknown", None)


def test_revoked_and_expired_documents_say_so(client: TestClient, runtime: Runtime, tokens: Tokens,
                                              licence: dict[str, Any]) -> None:
    with runtime.unit_of_work() as session:
        session.execute(update(IssuedDocument).values(valid_until=date(2020, 3, 19)))
    expired = text(_verify(client, licence["code"]).text)
    assert "اعتبار این سند تمام شده است" in expired and "۱۳۹۸/۱۲/۲۹" in expired
    revoked = client.post(f"/api/v1/documents/{licence['id']}/revoke", json={"reason": "صادر شده به اشتباه"},
                          headers=tokens.headers("staff_guild"))
    assert revoked.status_code == 200, revoked.text
    page = _verify(client, licence["code"], "en")
    assert page.status_code == 200 and "This document has been revoked" in text(page.text)
    assert [c.result for c in _checks(runtime)] == ["expired", "revoked"]


def test_every_check_is_recorded_with_who_and_where(client: TestClient, runtime: Runtime, tokens: Tokens,
                                                    licence: dict[str, Any]) -> None:
    _verify(client, licence["code"])
    staff = TestClient(client.app)
    signed = staff.post("/staff/sign-in", data={"csrf_token": csrf(staff.get("/staff/sign-in").text),
                                                "token": tokens.staff_municipality})
    assert signed.status_code == 200
    assert staff.get("/verify", params={"code": licence["code"]}).status_code == 200
    first, second = _checks(runtime)
    assert (first.document_id, first.result, first.client, first.checker) == (
        licence["id"], "valid", "testclient", None)
    assert second.checker == "staff:inspector-1" and second.at >= first.at


def test_checks_are_limited_per_client(client: TestClient, runtime: Runtime, licence: dict[str, Any],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verification, "VERIFY_PER_HOUR", 3)
    for _ in range(3):
        assert _verify(client, licence["code"]).status_code == 200
    limited = _verify(client, licence["code"])
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "تلاش‌ها زیاد بود" in text(limited.text)
    assert len(_checks(runtime)) == 3, "a refused lookup is no check"


def test_the_holder_downloads_it_and_sees_how_often_it_was_checked(client: TestClient, runtime: Runtime,
                                                                   tokens: Tokens) -> None:
    case, licence = approved_licence(client, runtime, tokens, citizen=citizen_headers(runtime, CITIZEN))
    holder = TestClient(client.app)
    sign_in(holder, runtime)
    page = " ".join(text(holder.get(f"/cases/{case}").text).split())
    assert "سندهای صادرشده" in page and licence["code"] in page and "هنوز کسی این سند را استعلام نکرده است" in page
    for _ in range(3):
        _verify(client, licence["code"])
    assert "۳ بار استعلام شده است" in text(holder.get(f"/cases/{case}").text)
    pdf = holder.get(f"/cases/{case}/documents/{licence['id']}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    stranger = TestClient(client.app)
    sign_in(stranger, runtime, OTHER_CITIZEN, OTHER_MOBILE)
    assert stranger.get(f"/cases/{case}/documents/{licence['id']}").status_code == 404
    assert "سندهای صادرشده" not in stranger.get(f"/cases/{case}").text


def test_the_public_check_shows_only_the_fields_declared_public_whole() -> None:
    """A parent's name, an address or a number on a document is matched by its first letters on
    /verify; only what the card declares `public` (a business's own name) is shown whole."""
    service = {"title": {"fa": "خدمت", "en": "Service"}, "agencies": {"a": {"fa": "دستگاه", "en": "Agency"}},
               "issued_documents": {"deed": {
                   "title": {"fa": "گواهی", "en": "Certificate"},
                   "certifies": {"fa": "{holder_name} فرزند {father} ساکن {address} مالک {shop} است.",
                                 "en": "{holder_name}, child of {father}, of {address}, owns {shop}."},
                   "fields": [{"name": "father", "fa": "نام پدر", "en": "Father"},
                              {"name": "address", "fa": "نشانی", "en": "Address"},
                              {"name": "shop", "fa": "کسب", "en": "Shop", "public": True}]}}}
    content = document_texts.content(service, "deed", {"father": "حسن رضایی", "address": "تهران خیابان آزادی",
                                                       "shop": "نان برکت"}, "a", date(2026, 12, 7), None)
    private = document_texts.certifies(content, "fa", "علی رضایی")
    assert "حسن رضایی" in private and "تهران خیابان آزادی" in private, "the document itself says everything"
    public = document_texts.certifies_publicly(content, "fa", "ع** ر****")
    assert public is not None and "نان برکت" in public and "ع** ر****" in public
    assert "حسن" not in public and "آزادی" not in public and "ح** ر****" in public and "ت**** خ***** آ****" in public
    older = {key: value for key, value in content.items() if key != "certifies_public"}
    assert document_texts.certifies_publicly(older, "fa", "ع** ر****") is None, "an older document's text is left out"
