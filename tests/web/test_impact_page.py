"""`/impact`: the ledger of visits, open to anyone, counted from what the single window offers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from engine.web.impact_page import source_parts
from engine.web.session import LANG_COOKIE
from tests.web.journey import ready_catalogue

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"


def _cells(html: str, row_label: str) -> list[str]:
    row = re.search(rf"<tr>\s*<th scope=\"row\">(?:<a [^>]*>)?{re.escape(row_label)}.*?</tr>", html, re.S)
    assert row, f"no row {row_label!r}"
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)]


def test_the_ledger_in_persian_with_persian_digits(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    page = client.get("/impact")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fa" dir="rtl">' in html
    assert "<h1>دفتر مراجعه‌های حضوری</h1>" in html
    assert '<caption id="impact-caption">پیش از پنجره و اکنون، برای هر خدمت</caption>' in html
    assert _cells(html, "صدور پروانه کسب") == ["۱، پیش‌تر ۴", "۰، پیش‌تر ۳", "۱، پیش‌تر ۱", "۴، پیش‌تر ۸",
                                               "۰، پیش‌تر ۲", "۴", "۳"]
    # The totals grow with the catalogue (tests/impact checks the sums); here, that they are shown.
    assert re.fullmatch(r"[۰-۹]+، پیش‌تر [۰-۹]+", _cells(html, "همه خدمات")[0])
    assert "هدف: دست‌کم ۸۰٪" in html
    # Every figure in Persian digits: the targets and the table (the sources' English notes keep theirs).
    figures = html.split("<h2>", 1)[1].split("</table>", 1)[0]
    shown = re.sub(r"<[^>]+>|&#\d+;", " ", figures)
    assert not re.search(r"[0-9]", shown), shown
    assert sum(c in PERSIAN_DIGITS for c in shown) >= 20


def test_the_ledger_in_english_names_each_visit_its_fate_and_source(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    client.cookies.set(LANG_COOKIE, "en")
    html = client.get("/impact").text
    assert '<html lang="en" dir="ltr">' in html
    assert _cells(html, "Business licence") == ["1, was 4", "0, was 3", "1, was 1", "4, was 8", "0, was 2", "4", "3"]
    avoidable = re.search(r"Avoidable visits no longer needed: (\d+) of (\d+) \((\d+)%\)\. "
                          r"Target: at least 80%\.", html)
    assert avoidable and avoidable.group(1) == avoidable.group(2) and avoidable.group(3) == "100"
    fetched = re.search(r"Identity, address and ownership facts fetched from agencies instead of asked: "
                        r"(\d+) of (\d+) \((\d+)%\)", html)
    assert fetched and int(fetched.group(3)) == 100 * int(fetched.group(1)) // int(fetched.group(2)) >= 60
    inspection = _cells(html, "An inspector visits the premises")
    assert inspection[:3] == ["Inspection of a place or thing", "At your premises",
                              "Still needed; arranged through Panjereh"]
    assert 'href="http://ibtsynd.com/پروانه-کسب/"' in inspection[3]
    assert _cells(html, "Collect the licence at the union")[2] == "No longer needed"  # the licence is issued online
    assert _cells(html, "The national card, original and a copy")[0] == (
        "No longer asked; fetched from the agency that issues it")


def test_nothing_offered_yet(client: TestClient) -> None:
    client.cookies.set(LANG_COOKIE, "en")
    html = client.get("/impact").text
    assert "No service is offered in the single window yet." in html
    assert "Avoidable visits: nothing to count yet." in html


def test_every_page_links_to_the_ledger(client: TestClient) -> None:
    assert '<a href="/impact">' in client.get("/").text


def test_sources_are_links_and_citations() -> None:
    parts = source_parts("https://example.org/a/b (step 1); Law of examples, article 3; http://x.ir/پروانه/")
    assert [(p.href, p.host, p.note, p.note_lang) for p in parts] == [
        ("https://example.org/a/b", "example.org", "(step 1)", "en"),
        (None, "", "Law of examples, article 3", "en"),
        ("http://x.ir/پروانه/", "x.ir", "", "fa")]


def test_open_to_anyone_and_walked_with_every_visitor(client: TestClient) -> None:
    from tests.web.test_route_walk import _pages

    assert [(sorted(p.methods), p.audience) for p in _pages(client) if p.path == "/impact"] == [(["GET"], "anyone")]
