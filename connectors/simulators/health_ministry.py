"""Ministry of Health (وزارت بهداشت): the hospitals' electronic birth records (گواهی ولادت).

``GET /birth-records?parent_national_code=9876543210`` -> 200 ``{"records": [...]}``, newest first,
each::

    {"record_number": "482133770151", "newborn_sex": "female", "birth_date": "1405/09/12",
     "birth_date_gregorian": "2026-12-03", "birth_time": "08:42", "hospital": "بیمارستان مهر",
     "city": "تهران", "weight_g": 3250, "mother_national_code": "9876543210",
     "father_national_code": "0013542419"}

The records of a parent (mother or father); ``records`` is empty when the hospitals sent none. Births
are recent: a fixed number of days before today (Iran's calendar day), so the same person always has a
birth as many days old. 404 bodies as the civil registry's (``invalid-national-code``, ``not-found``).

Fixed: ``9876543210`` (mother) and ``0013542419`` (father), a girl born 4 days ago; ``0081500009`` and
``0081500017``, a boy born 40 days ago (past the 15 days of the law); ``0081500033`` and ``0081500041``
(no registered marriage), a boy born 3 days ago; ``0081500025`` has no record. Other women have a
birth 2 times in 3, born 1 to 60 days ago, the father being the registered husband (else a drawn man).
Other men have none.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from persiantools.jdatetime import JalaliDate
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.civil_registry import find_marriage, find_person, require_valid
from connectors.simulators.data import Draw
from forms.dates import today_in_iran

Sex = Literal["male", "female"]
HOSPITALS = (
    ("بیمارستان مهر", "تهران"), ("بیمارستان شهید بهشتی", "اصفهان"), ("بیمارستان امام رضا", "مشهد"),
    ("بیمارستان الزهرا", "تبریز"), ("بیمارستان حافظ", "شیراز"), ("زایشگاه مریم", "کرج"),
)


class BirthRecord(BaseModel):
    record_number: str
    newborn_sex: Sex
    birth_date: str
    birth_date_gregorian: str
    birth_time: str
    hospital: str
    city: str
    weight_g: int
    mother_national_code: str
    father_national_code: str


class BirthRecords(BaseModel):
    records: list[BirthRecord]


# mother -> (father, sex, days before today, hospital index, time, weight in grams)
DEMO_BIRTHS: dict[str, tuple[str, Sex, int, int, str, int]] = {
    "9876543210": ("0013542419", "female", 4, 0, "08:42", 3250),
    "0081500009": ("0081500017", "male", 40, 1, "23:05", 3610),
    "0081500033": ("0081500041", "male", 3, 2, "14:20", 2980),
}
NO_RECORD = frozenset({"0081500025"})


def find_births(parent: str) -> list[BirthRecord] | None:
    """The birth records naming `parent`, newest first; None when the civil registry has no such person."""
    person = find_person(parent)
    if person is None:
        return None
    for mother, (father, *_) in DEMO_BIRTHS.items():
        if parent in (mother, father):
            return [_record(mother)]
    if parent in NO_RECORD or person.gender == "male":
        return []
    return [_record(parent)] if Draw("health-ministry", parent).chance(2, 3) else []


def _record(mother: str) -> BirthRecord:
    draw = Draw("health-ministry", mother)
    draw.chance(2, 3)  # the draw that decided there is a record, so the rest is the same either way
    if mother in DEMO_BIRTHS:
        father, sex, days, hospital, time, weight = DEMO_BIRTHS[mother]
    else:
        marriage = find_marriage(mother)
        spouse = marriage.spouse_national_code if marriage is not None else None
        father = spouse or draw.national_code()
        sex = "female" if draw.chance(1, 2) else "male"
        days, hospital = draw.between(1, 60), draw.below(len(HOSPITALS))
        time, weight = f"{draw.below(24):02d}:{draw.below(60):02d}", draw.between(2400, 4300)
    born = today_in_iran() - timedelta(days=days)
    number = f"{Draw('health-ministry-record', mother).below(10**12):012d}"
    name, city = HOSPITALS[hospital]
    return BirthRecord(record_number=number, newborn_sex=sex,
                       birth_date=JalaliDate(born).strftime("%Y/%m/%d"),  # type: ignore[no-untyped-call]
                       birth_date_gregorian=born.isoformat(), birth_time=time, hospital=name, city=city,
                       weight_g=weight, mother_national_code=mother, father_national_code=father)


def build() -> FastAPI:
    app = new_agency_app("Ministry of Health birth records (sandbox)", __doc__ or "")

    @app.get("/birth-records")
    async def birth_records(parent_national_code: Annotated[str, Query(max_length=20)]) -> BirthRecords:
        """The hospitals' birth records naming a parent, newest first."""
        require_valid(parent_national_code)
        found = find_births(parent_national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return BirthRecords(records=found)

    return app
