"""Reading a PDF the way a person does: each glyph where it stands, lines read in their direction.

pypdf's own `extract_text` reads every Arabic-block character right to left, Persian digits
included, which Unicode reads left to right (they are European numbers to the bidirectional
algorithm): a serial 000123 printed correctly comes back as 321000. So the tests place each
glyph by its text matrix, map it to its letters through the font's ToUnicode map, and read
each line back to logical order themselves: right to left in a Persian line except for runs
of Latin letters and numbers, left to right in an English line except for Persian runs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream

ISOLATES = "\u2066\u2067\u2068\u2069"
# Glyphs whose starts are further apart than this (points) are in different cells of a table
# row; the widest letter of the document's largest type is narrower.
CELL_GAP = 30.0


@dataclass(frozen=True)
class Glyph:
    x: float
    y: float
    text: str
    font: str
    cid: int
    order: int


def _hex(value: str) -> int:
    return int(value, 16)


def to_unicode(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap (bfchar and bfrange entries) as glyph id -> text."""
    text = cmap.decode("latin-1")
    found: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for cid, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            found[_hex(cid)] = bytes.fromhex(target).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for start, end, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for offset in range(_hex(end) - _hex(start) + 1):
                found[_hex(start) + offset] = chr(_hex(target) + offset)
    return found


def fonts(data: bytes) -> dict[str, Any]:
    """The first page's fonts by resource name."""
    page = PdfReader(BytesIO(data)).pages[0]
    return {str(name): ref.get_object() for name, ref in page["/Resources"]["/Font"].items()}


def glyphs(data: bytes) -> list[Glyph]:
    """Every glyph drawn on the first page, where it stands."""
    reader = PdfReader(BytesIO(data))
    page = reader.pages[0]
    maps = {name: to_unicode(font["/ToUnicode"].get_object().get_data()) for name, font in fonts(data).items()}
    found: list[Glyph] = []
    font, line, at = "", (0.0, 0.0), (0.0, 0.0)
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"BT":
            line = at = (0.0, 0.0)
        elif operator == b"Tf":
            font = str(operands[0])
        elif operator == b"Td":
            line = at = (line[0] + float(operands[0]), line[1] + float(operands[1]))
        elif operator == b"Tm":
            line = at = (float(operands[4]), float(operands[5]))
        elif operator == b"Tj":
            raw = getattr(operands[0], "original_bytes", operands[0])
            for i in range(0, len(raw), 2):
                cid = int.from_bytes(raw[i:i + 2], "big")
                # fpdf2 draws one glyph per Tj; several in one keep their drawing order (below).
                found.append(Glyph(at[0], at[1], maps[font].get(cid, "\ufffd"), font, cid, len(found)))
    return found


def _kind(text: str) -> str:
    """"R" (Persian or Arabic letters), "L" (Latin letters), "N" (digits) or "-" (anything else)."""
    char = next((c for c in text if c not in ISOLATES and c != "\u200c"), "")
    if not char:
        return "-"
    direction = unicodedata.bidirectional(char)
    if direction in ("R", "AL"):
        return "R"
    if direction == "L":
        return "L"
    if direction in ("EN", "AN"):
        return "N"
    return "-"


def _reverse_runs(units: list[str], inside: set[str]) -> list[str]:
    """`units` with each run of kinds in `inside` (and the neutrals between them) reversed."""
    out, i = [], 0
    while i < len(units):
        if _kind(units[i]) not in inside:
            out.append(units[i])
            i += 1
            continue
        j = i
        last = i
        while j < len(units) and (_kind(units[j]) in inside or _kind(units[j]) == "-"):
            if _kind(units[j]) in inside:
                last = j
            j += 1
        out.extend(reversed(units[i:last + 1]))
        i = last + 1
    return out


def logical(cell: list[Glyph]) -> str:
    """One cell's glyphs, left to right as drawn, as the text a reader reads."""
    units = [g.text for g in cell]
    strong = [k for k in map(_kind, units) if k in ("L", "R")]
    if strong and strong[0] == "L":
        ordered = _reverse_runs(units, {"R"})
    else:
        ordered = _reverse_runs(list(reversed(units)), {"L", "N"})
    return "".join(ordered).translate(dict.fromkeys(map(ord, ISOLATES)))


def lines(data: bytes) -> list[str]:
    """The first page's text, one entry per cell of each line, top to bottom."""
    rows: dict[float, list[Glyph]] = {}
    for glyph in glyphs(data):
        rows.setdefault(round(glyph.y, 1), []).append(glyph)
    found = []
    for y in sorted(rows, reverse=True):
        cell: list[Glyph] = []
        # In drawing order, which is left to right (fpdf2 draws the glyphs of a line as they
        # stand): by position alone, a zero-width glyph (ZWNJ) kerned a hair to the right of
        # the letter after it would change places with it.
        for glyph in sorted(rows[y], key=lambda g: g.order):
            if cell and glyph.x - cell[-1].x > CELL_GAP and glyph.text != " " and cell[-1].text != " ":
                found.append(logical(cell).strip())
                cell = []
            cell.append(glyph)
        if cell:
            found.append(logical(cell).strip())
    return [line for line in found if line]
