"""Messages, digits and dates in the citizen's language. Persian first, English second.

Every string a page shows comes from `forms/locale/<lang>.toml` (the portal) and
`engine/web/locale/<lang>.toml` (staff and analysts); templates hold no
literal text. A missing key shows itself as `[key]` so it is caught in review and tests.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date as Day
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from persiantools.jdatetime import JalaliDate, JalaliDateTime

from engine.core.working_calendar import TEHRAN

LANGUAGES = ("fa", "en")
DEFAULT_LANGUAGE = "fa"
# The citizen's portal speaks from forms/ (with the forms it renders); the staff workspace
# and the analyst console from the web layer. One section is written in one of them only.
LOCALE_DIRS = (Path(__file__).resolve().parents[2] / "forms" / "locale", Path(__file__).resolve().parent / "locale")
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
TEHRAN_OFFSET_MINUTES = 210


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat key -> text table of one language."""
    data: dict[str, Any] = {}
    for directory in LOCALE_DIRS:
        part = tomllib.loads((directory / f"{lang}.toml").read_text(encoding="utf-8"))
        twice = data.keys() & part.keys()
        if twice:
            raise ValueError(f"{lang}.toml: sections {sorted(twice)} are written in more than one locale directory")
        data |= part
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(name, value)
            else:
                flat[name] = str(value)

    walk("", data)
    return flat


@dataclass(frozen=True)
class Translator:
    """`t("key", name=...)` for one language, plus number and date formatting."""

    lang: str

    @property
    def direction(self) -> str:
        return "rtl" if self.lang == "fa" else "ltr"

    def __call__(self, key: str, **params: Any) -> str:
        text = catalogue(self.lang).get(key)
        if text is None:
            return f"[{key}]"
        return text.format(**{k: self.digits(v) for k, v in params.items()}) if params else text

    def digits(self, value: Any) -> str:
        """`value` as text, with Persian digits on Persian pages."""
        text = str(value)
        return text.translate(_TO_PERSIAN) if self.lang == "fa" else text

    def pick(self, variants: Any, fallback: str = "") -> str:
        """The text for this language from a `{"fa": ..., "en": ...}` table or a plain string."""
        if isinstance(variants, dict):
            own = variants.get(self.lang)
            if own:
                return str(own)
            if fallback:
                return fallback
            return str(next((v for v in variants.values() if v), ""))
        return str(variants) if variants else fallback

    def date(self, moment: datetime | None) -> str:
        """A date and time as a citizen reads it: Jalali in Persian, Gregorian in English, Tehran time."""
        if moment is None:
            return ""
        from datetime import timedelta, timezone

        local = moment.astimezone(timezone(timedelta(minutes=TEHRAN_OFFSET_MINUTES)))
        if self.lang == "fa":
            jalali = JalaliDateTime(local)  # type: ignore[no-untyped-call]  # constructor unannotated upstream
            return self.digits(jalali.strftime("%Y/%m/%d %H:%M"))
        return local.strftime("%d %B %Y %H:%M")

    def day(self, value: Day | datetime | None) -> str:
        """A calendar day (a moment is read in Tehran): Jalali in Persian (۱۴۰۵/۰۹/۳۰), Gregorian
        in English (21 December 2026)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(TEHRAN).date()
        if self.lang == "fa":
            jalali = JalaliDate(value)  # type: ignore[no-untyped-call]  # constructor unannotated upstream
            return self.digits(f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}")
        return f"{value.day} {value.strftime('%B %Y')}"

    def number(self, value: int | float) -> str:
        """A number with thousands separators: ۴٬۵۰۰٬۰۰۰ on Persian pages, 4,500,000 on English ones."""
        text = f"{value:,}" if isinstance(value, int) or float(value).is_integer() else f"{value:,.1f}"
        text = text.removesuffix(".0")
        if self.lang == "fa":
            text = text.replace(",", "٬").replace(".", "٫")
        return self.digits(text)

    def money(self, rial: int) -> str:
        """An amount in rials as Iranians read a price: tomans first, the exact rials beside them."""
        tomans = rial // 10 if rial % 10 == 0 else rial / 10
        return self("payment.money", tomans=self.number(tomans), rials=self.number(rial))

    def grouped(self, code: str, size: int = 4) -> str:
        """A tracking code in groups a person can read out: 1234 5678 9012."""
        return self.digits(" ".join(code[i:i + size] for i in range(0, len(code), size)))


def translator(lang: str | None) -> Translator:
    return Translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
