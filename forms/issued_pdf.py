"""An issued document as a PDF: Persian first, with its serial, verification code and QR code.

Persian is written in contextual letter forms (a letter joins its neighbours) and read right
to left, with numbers left to right inside it. A PDF holds placed glyphs, not text, so both
have to be done before the glyphs are placed: fpdf2 shapes each line with HarfBuzz
(`set_text_shaping`, through uharfbuzz) and orders its runs by the Unicode bidirectional
algorithm. The font is the Vazirmatn the pages serve (`forms/static/fonts`), embedded as a
subset with a map from each glyph back to its letters, so the text can be searched, copied
and read by a screen reader. The QR code is drawn as vector squares (segno gives the matrix).

This module takes values and returns bytes: no database, no clock, no network. The same
`Sheet` gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from io import BytesIO
from pathlib import Path

import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF
from persiantools.jdatetime import JalaliDate

FONTS = Path(__file__).resolve().parent / "static" / "fonts"
FONT = "Vazirmatn"
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# A4 portrait, in millimetres.
MARGIN = 18.0
INK = (20, 33, 61)
MUTED = (80, 86, 96)
RULE = (176, 184, 196)


@dataclass(frozen=True)
class Line:
    """One field of the document: its label in both languages and its value as shown in Persian."""

    label_fa: str
    label_en: str
    value: str


@dataclass(frozen=True)
class Sheet:
    """Everything a document shows; `code` is the verification code as printed (in groups)."""

    title_fa: str
    title_en: str
    agency_fa: str
    agency_en: str
    holder_name: str
    holder_national_code: str
    lines: Sequence[Line]
    certifies_fa: str
    certifies_en: str
    serial: int
    issued_on: date
    valid_until: date | None
    code: str
    verify_url: str


def persian_digits(text: str) -> str:
    """`text` with Persian digits, as a Persian reader expects them."""
    return text.translate(_TO_PERSIAN)


def jalali(day: date) -> str:
    """A date as the Iranian calendar writes it, in Persian digits: ۱۴۰۵/۰۹/۳۰."""
    shown = JalaliDate(day)  # type: ignore[no-untyped-call]  # constructor unannotated upstream
    return persian_digits(f"{shown.year:04d}/{shown.month:02d}/{shown.day:02d}")


def serial_text(serial: int) -> str:
    """The serial number as printed: six digits at least, so a document's number has one look."""
    return f"{serial:06d}"


@cache
def _font_files() -> tuple[str, str]:
    """The pages' WOFF2 fonts as TrueType files, made once per process and machine.

    fpdf2 reads WOFF2 too, but rebuilds its glyph table on every document (most of a second);
    from TrueType a document takes a fifth of that. The copy is named by the WOFF2's digest,
    so a new font is never mixed up with an old copy. Where no copy can be written (a
    read-only temporary folder), the WOFF2 files are used as they are: slower, the same pages.
    """
    folder = Path(tempfile.gettempdir()) / "panjereh-fonts"
    made = []
    for style in ("Regular", "Bold"):
        source = FONTS / f"{FONT}-{style}.woff2"
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        target = folder / f"{FONT}-{style}-{digest}.ttf"
        try:
            if not target.exists():
                folder.mkdir(exist_ok=True)
                font = TTFont(source)
                font.flavor = None
                # Written under a name of its own, then renamed: a reader never sees half a font.
                partial = folder / f"{target.stem}.{os.getpid()}.{threading.get_ident()}.partial"
                font.save(partial)
                partial.replace(target)
            made.append(str(target))
        except OSError:
            made.append(str(source))
    return made[0], made[1]


class _Document(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        regular, bold = _font_files()
        self.add_font(FONT, "", regular)
        self.add_font(FONT, "B", bold)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN)
        self.c_margin = 1.5

    # Only the paragraph's direction is set: fpdf2 finds each run's script itself, so a Latin
    # name in a Persian sentence (or the reverse) is shaped by its own script's rules.
    def persian(self, size: float, *, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_shaping(use_shaping_engine=True, direction="rtl")

    def english(self, size: float, *, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_shaping(use_shaping_engine=True, direction="ltr")

    def rule(self) -> None:
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.ln(3)


def _header(pdf: _Document, sheet: Sheet) -> None:
    pdf.set_text_color(*MUTED)
    pdf.persian(12)
    pdf.cell(0, 7, sheet.agency_fa, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.english(9)
    pdf.cell(0, 5, sheet.agency_en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_text_color(*INK)
    pdf.persian(22, bold=True)
    pdf.cell(0, 12, sheet.title_fa, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.english(12, bold=True)
    pdf.cell(0, 7, sheet.title_en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.rule()


def _row(pdf: _Document, label_fa: str, value: str, label_en: str, *, latin: bool = False) -> None:
    """One line of the table: the Persian label on the right, the value, the English label on the left."""
    width = pdf.w - 2 * MARGIN
    left = pdf.l_margin
    y = pdf.get_y()
    pdf.set_text_color(*MUTED)
    pdf.english(8.5)
    pdf.set_xy(left, y)
    pdf.cell(width * 0.25, 8, label_en, align="L")
    pdf.set_text_color(*INK)
    if latin:
        pdf.english(11, bold=True)
    else:
        pdf.persian(11, bold=True)
    # A long value (an address, a vehicle's description) wraps within its column, and the row
    # grows to hold it, instead of running over the labels and the margin.
    wrapped = pdf.multi_cell(width * 0.45, 6, value, align="R", dry_run=True, output="LINES")
    lines = len(wrapped) if isinstance(wrapped, list) else 1
    height = 8 if lines <= 1 else 6 * lines + 2
    pdf.set_xy(left + width * 0.25, y)
    pdf.multi_cell(width * 0.45, 8 if lines <= 1 else 6, value, align="R", new_x="RIGHT", new_y="TOP")
    pdf.set_text_color(*MUTED)
    pdf.persian(10)
    pdf.set_xy(left + width * 0.70, y)
    pdf.cell(width * 0.30, 8, label_fa, align="R")
    pdf.set_xy(left, y + height)


def _qr(pdf: _Document, url: str, x: float, y: float, size: float) -> None:
    """The QR code as filled squares, each run of dark modules in a row as one rectangle."""
    code = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in code.matrix]
    modules = len(rows) + 8  # the quiet zone, four modules on every side
    step = size / modules
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + (start + 4) * step, y + (r + 4) * step, (c - start) * step, step, style="F")


def _verification(pdf: _Document, sheet: Sheet) -> None:
    size = 38.0
    top = pdf.get_y() + 2
    if top + size > pdf.h - MARGIN:
        pdf.add_page()
        top = pdf.get_y()
    pdf.set_draw_color(*RULE)
    pdf.rect(MARGIN, top, pdf.w - 2 * MARGIN, size + 4)
    _qr(pdf, sheet.verify_url, MARGIN + 2, top + 2, size)
    text_left, text_width = MARGIN + size + 6, pdf.w - 2 * MARGIN - size - 10
    pdf.set_text_color(*INK)
    pdf.set_xy(text_left, top + 4)
    pdf.persian(10.5, bold=True)
    pdf.cell(text_width, 7, "کد تصدیق این سند", align="R", new_x="LEFT", new_y="NEXT")
    pdf.english(16, bold=True)
    pdf.cell(text_width, 10, sheet.code, align="R", new_x="LEFT", new_y="NEXT")
    pdf.persian(9.5)
    pdf.multi_cell(text_width, 5.5, "برای تصدیق، کد را در صفحه زیر وارد کنید یا تصویر QR را با تلفن همراه بخوانید:",
                   align="R", new_x="LEFT", new_y="NEXT")
    pdf.english(8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(text_width, 5, sheet.verify_url.split("?")[0], align="R", new_x="LEFT", new_y="NEXT")
    pdf.cell(text_width, 5, "Verification code: enter it on the page above, or scan the QR code.", align="R")
    pdf.set_xy(MARGIN, top + size + 8)


def render(sheet: Sheet) -> bytes:
    """The PDF of `sheet`: A4, Persian first, every text in the embedded Vazirmatn."""
    pdf = _Document()
    pdf.set_title(f"{sheet.title_en} {serial_text(sheet.serial)}")
    pdf.set_lang("fa")
    pdf.set_creator("Panjereh")
    # Fixed, so that one sheet gives one file: the issue date, not the moment of rendering.
    pdf.set_creation_date(datetime.combine(sheet.issued_on, time(0, 0), tzinfo=UTC))
    pdf.add_page()
    _header(pdf, sheet)
    _row(pdf, "شماره", persian_digits(serial_text(sheet.serial)), "Serial number")
    _row(pdf, "تاریخ صدور", jalali(sheet.issued_on), "Date of issue")
    if sheet.valid_until is not None:
        _row(pdf, "معتبر تا", jalali(sheet.valid_until), "Valid until")
    pdf.ln(2)
    pdf.rule()
    _row(pdf, "نام دارنده", sheet.holder_name, "Holder")
    _row(pdf, "کد ملی", persian_digits(sheet.holder_national_code), "National code")
    for line in sheet.lines:
        _row(pdf, line.label_fa, line.value, line.label_en)
    pdf.ln(2)
    pdf.rule()
    pdf.set_text_color(*INK)
    pdf.persian(11.5)
    pdf.multi_cell(0, 7.5, sheet.certifies_fa, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_text_color(*MUTED)
    pdf.english(9)
    pdf.multi_cell(0, 5, sheet.certifies_en, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _verification(pdf, sheet)
    buffer = BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()
