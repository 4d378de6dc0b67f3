"""An issued document's PDF reads as it should: Persian joined and right to left, numbers left to
right inside it, a Persian name inside an English sentence in its own order, the font embedded."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date

from forms.issued_pdf import Line, Sheet, render
from tests.forms.pdf_text import fonts, glyphs, lines

SHEET = Sheet(
    title_fa="پروانه کسب", title_en="Business licence", agency_fa="اتحادیه صنفی", agency_en="Guild union",
    holder_name="زهرا احمدی", holder_national_code="0013542419",
    lines=[Line("نام کسب‌وکار", "Business name", "نان سنگک برکت"), Line("مساحت محل کسب", "Floor area", "۴۰ متر مربع")],
    certifies_fa="دارنده این پروانه، \u2068زهرا احمدی\u2069، اجازه دارد کسب‌وکار «\u2068نان سنگک برکت\u2069» را تا "
                 "\u2068۱۴۰۷/۰۹/۳۰\u2069 دایر کند.",
    certifies_en="This licence permits its holder, \u2068زهرا احمدی\u2069, to run “\u2068لوازم‌التحریر مهر\u2069”.",
    serial=123, issued_on=date(2026, 12, 21), valid_until=date(2028, 12, 20), code="ABCD-EFGH-JKM2",
    verify_url="https://panjereh.example/verify?code=ABCD-EFGH-JKM2")


def test_the_text_reads_in_logical_order() -> None:
    text = lines(render(SHEET))
    for expected in ("اتحادیه صنفی", "Guild union", "پروانه کسب", "Business licence",
                     "شماره", "۰۰۰۱۲۳",                          # six digits, left to right
                     "تاریخ صدور", "۱۴۰۵/۰۹/۳۰",                # 21 December 2026 on the Iranian calendar
                     "معتبر تا", "۱۴۰۷/۰۹/۳۰",                # 20 December 2028
                     "نام دارنده", "زهرا احمدی", "کد ملی", "۰۰۱۳۵۴۲۴۱۹",
                     "نام کسب‌وکار", "نان سنگک برکت", "Business name", "۴۰ متر مربع",
                     "ABCD-EFGH-JKM2", "https://panjereh.example/verify"):
        assert expected in text, f"{expected!r} not read from the PDF: {text}"
    assert ("دارنده این پروانه، زهرا احمدی، اجازه دارد کسب‌وکار «نان سنگک برکت» را تا ۱۴۰۷/۰۹/۳۰ دایر کند."
            in text), text
    assert "This licence permits its holder, زهرا احمدی, to run “لوازم‌التحریر مهر”." in text, text


def test_the_font_is_the_pages_vazirmatn_embedded() -> None:
    found = fonts(render(SHEET))
    assert found
    for font in found.values():
        assert "Vazirmatn" in str(font["/BaseFont"])
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, "the font is not embedded"
        assert descriptor["/FontFile2"].get_object().get_data()[:4] == b"\x00\x01\x00\x00"  # TrueType outlines


def test_persian_letters_are_joined() -> None:
    """A joined letter takes the form of its place in the word: ن of نان is drawn with two glyphs
    (start and end of the word), each mapped back to the one letter; unshaped, there is one."""
    forms: dict[tuple[str, str], set[int]] = defaultdict(set)
    for glyph in glyphs(render(SHEET)):
        forms[glyph.font, glyph.text].add(glyph.cid)
    for letter in ("ن", "ک", "ه", "ی", "ب"):
        # Counted within one font: the bold and the regular face each have their own glyphs.
        most = max(len(cids) for (_, text), cids in forms.items() if text == letter)
        assert most >= 2, f"{letter} is drawn in one form only: not shaped"


def test_the_same_sheet_gives_the_same_file() -> None:
    assert render(SHEET) == render(SHEET)


def test_a_long_value_wraps_inside_its_column() -> None:
    """An address longer than its column is wrapped onto more lines between the two labels, and
    the rows below move down, instead of running over the English label and the page's margin."""
    address = ("استان تهران، شهر تهران، خیابان ولیعصر، کوچه نسترن، پلاک ۱۲، طبقه سوم، واحد ۷، "
               "کد پستی ۱۱۹۳۶۵۳۴۷۱")
    drawn = render(dataclasses.replace(SHEET, lines=[Line("نشانی", "Address", address), *SHEET.lines]))
    placed = glyphs(drawn)
    points = 72 / 25.4
    left = (18.0 + (210 - 2 * 18.0) * 0.25) * points  # where the value's column starts
    # The rows of the address: from its English label's line down to the next row's label.
    top = max(g.y for g in placed if g.text == "A" and g.x < left)
    below = max(g.y for g in placed if g.text == "B" and g.x < left and g.y < top)
    persian = [g for g in placed if below < g.y <= top + 1 and g.text and "\u0600" <= g.text[0] <= "\u06ff"]
    assert persian and all(g.x >= left - 1 for g in persian), "the address ran into the English label's column"
    assert len({round(g.y) for g in persian}) >= 2, "the address was not wrapped"
    assert "کد پستی ۱۱۹۳۶۵۳۴۷۱" in " ".join(lines(drawn))
