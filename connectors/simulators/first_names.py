"""The civil registry's permitted first names (فهرست نام‌های مجاز), a small sandbox version.

The registry keeps a list of names it registers for boys and for girls and refuses titles and ranks
given as names (the registry's name-selection rules refuse "titles and honorifics" such as شاه or
ملکه). A name is checked after Persian normalization (Arabic ي/ك folded, spaces trimmed), so the
same name typed on any keyboard gets the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connectors.simulators.data import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES

Sex = Literal["male", "female"]
Refusal = Literal["title", "other_sex", "not_listed"]

BOYS = frozenset({*MALE_FIRST_NAMES, "آرش", "آرین", "کیان", "پارسا", "سینا", "بردیا", "ماهان", "نیما", "یاسین",
                  "امیرحسین", "محمدرضا", "علیرضا"})
GIRLS = frozenset({*FEMALE_FIRST_NAMES, "ستاره", "رها", "آوا", "هستی", "یسنا", "باران", "ترانه", "نیلوفر", "کیمیا",
                   "فاطمه‌زهرا", "آیدا", "حنانه"})
TITLES = frozenset({"شاه", "ملکه", "شاهزاده", "شهبانو", "پرنسس", "خان", "خانم", "سلطان", "امیرالمؤمنین", "سردار"})
_FOLD = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی"})


@dataclass(frozen=True)
class NameCheck:
    name: str
    permitted: bool
    refusal: Refusal | None


def folded(name: str) -> str:
    return " ".join(name.translate(_FOLD).split())


def check_name(name: str, sex: Sex) -> NameCheck:
    """Whether the registry registers `name` for a child of `sex`, and why not."""
    name = folded(name)
    own, other = (BOYS, GIRLS) if sex == "male" else (GIRLS, BOYS)
    if name in TITLES:
        return NameCheck(name, False, "title")
    if name in own:
        return NameCheck(name, True, None)
    return NameCheck(name, False, "other_sex" if name in other else "not_listed")
