"""Synthetic data: small Persian word lists and a deterministic way to draw from them.

Every generated record is drawn from SHA-256 of the identifier (never Python's ``hash``, which is
salted per process, nor ``random``, whose algorithms may change between versions), so the same
identifier gives the same person, address or company on every machine, run and app instance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

from forms.identifiers import check_national_code

T = TypeVar("T")

MALE_FIRST_NAMES = (
    "علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "حسن", "سعید", "مجید", "احمد", "جواد", "حمید", "بهرام",
    "کامران", "فرهاد", "داریوش",
)
FEMALE_FIRST_NAMES = (
    "فاطمه", "زهرا", "مریم", "سارا", "نرگس", "لیلا", "مینا", "شیرین", "پریسا", "نسرین", "الهام", "سمیه",
    "آزاده", "نازنین", "ریحانه", "مهسا",
)
# Two names carry a ZWNJ (U+200C), as real registry names do, so consumers meet it in tests.
LAST_NAMES = (
    "محمدی", "حسینی", "احمدی", "رضایی", "کریمی", "موسوی", "جعفری", "صادقی", "رحیمی", "کاظمی", "قاسمی",
    "ابراهیمی", "نوری", "طاهری", "یزدانی", "شریفی", "حسین\u200cزاده", "قلی\u200cپور",
)
STREETS = (
    "خیابان آزادی", "خیابان انقلاب", "خیابان ولیعصر", "خیابان شریعتی", "خیابان فردوسی", "خیابان حافظ",
    "بلوار کشاورز", "خیابان بهار", "خیابان سعدی", "خیابان مطهری",
)
ALLEYS = (
    "کوچه لاله", "کوچه نسترن", "کوچه یاس", "کوچه شقایق", "کوچه بنفشه", "کوچه اول", "کوچه دوم", "بن‌بست مهر",
)
# (province, city) by the postal code's first digit. Roughly how Iran Post routes (1 = Tehran,
# 8 = Isfahan, 9 = Khorasan...), but a sandbox, not a gazetteer.
REGIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "1": (("تهران", "تهران"),),
    "3": (("البرز", "کرج"), ("قزوین", "قزوین"), ("سمنان", "سمنان")),
    "4": (("گیلان", "رشت"), ("مازندران", "ساری"), ("زنجان", "زنجان")),
    "5": (("آذربایجان شرقی", "تبریز"), ("آذربایجان غربی", "ارومیه"), ("اردبیل", "اردبیل")),
    "6": (("خوزستان", "اهواز"), ("کرمانشاه", "کرمانشاه"), ("لرستان", "خرم‌آباد")),
    "7": (("فارس", "شیراز"), ("کرمان", "کرمان"), ("بوشهر", "بوشهر")),
    "8": (("اصفهان", "اصفهان"), ("یزد", "یزد"), ("چهارمحال و بختیاری", "شهرکرد")),
    "9": (("خراسان رضوی", "مشهد"), ("سیستان و بلوچستان", "زاهدان"), ("خراسان جنوبی", "بیرجند")),
}
COMPANY_SECTORS = ("بازرگانی", "فناوری اطلاعات", "ساختمانی", "صنایع غذایی", "حمل و نقل", "خدمات مهندسی")
COMPANY_BRANDS = ("آریا", "سپهر", "پارس", "البرز", "نوین", "کاوش", "دماوند", "زاگرس", "آفتاب", "ستاره")
COMPANY_FORMS = ("سهامی خاص", "با مسئولیت محدود", "تعاونی")
# Registration office prefixes of Tehran and a few other cities, for managers' national codes.
CITY_PREFIXES = ("001", "002", "003", "004", "005", "006", "007", "008", "127", "128", "228", "229", "272")


class Draw:
    """A deterministic stream of choices for one identifier in one namespace."""

    def __init__(self, namespace: str, identifier: str) -> None:
        self._seed = hashlib.sha256(f"panjereh-sandbox:{namespace}:{identifier}".encode()).digest()
        self._count = 0

    def below(self, limit: int) -> int:
        """A number in [0, limit)."""
        block = hashlib.sha256(self._seed + self._count.to_bytes(4, "big")).digest()
        self._count += 1
        return int.from_bytes(block[:8], "big") % limit

    def between(self, low: int, high: int) -> int:
        """A number in [low, high]."""
        return low + self.below(high - low + 1)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def chance(self, numerator: int, denominator: int) -> bool:
        """True numerator times in denominator."""
        return self.below(denominator) < numerator

    def jalali_date(self, first_year: int, last_year: int) -> str:
        """A real Jalali day as ``YYYY/MM/DD`` (days 30 and 31 only in months that always have them)."""
        month = self.between(1, 12)
        days = 31 if month <= 6 else 30 if month <= 11 else 29
        return f"{self.between(first_year, last_year):04d}/{month:02d}/{self.between(1, days):02d}"

    def national_code(self) -> str:
        """A national code that passes `forms.identifiers.check_national_code`."""
        while True:
            body = self.pick(CITY_PREFIXES) + f"{self.below(1_000_000):06d}"
            # Exactly one check digit fits unless the middle is a placeholder; let the checker say which.
            for digit in "0123456789":
                if check_national_code(body + digit) is None:
                    return body + digit
