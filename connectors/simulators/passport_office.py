"""Police for immigration and passports (پلیس مهاجرت و گذرنامه): biometrics appointments and passports.

The citizen's one irreducible visit is the biometrics (photo and fingerprints) at a Police+10 office;
it is booked online. Four JSON endpoints:

``GET /appointments/slots?postal_code=1193653471`` -> 200, the office nearest the residence and its free
slots on the next three working days (Saturday to Wednesday; Thursday and Friday are off), 09:00 and
11:00 Tehran time, oldest first; a booked slot is no longer offered::

    {"office": {"code": "P10-11936", "name_fa": "دفتر پلیس+۱۰ ...", "name_en": "Police+10 office ..."},
     "slots": [{"slot_id": "P10-11936-20261209-0900", "date": "2026-12-09", "jalali_date": "1405/09/18",
                "time": "09:00", "label_fa": "...", "label_en": "..."}, ...]}

``POST /appointments`` ``{"national_code": "0013542419", "slot_id": "..."}`` -> 201 ``Booking``
``{"booking_number": "BIO-12345678", "national_code", "slot_id", "office_code", "date", "time"}``. Booking
the same slot again for the same person answers the same booking (a retry books nothing new); a person
who books another slot gives up the first. A slot someone else holds is 409 ``slot-taken``; one not
offered (unknown, past, or of no office) is 422 ``unknown-slot``.

``POST /biometrics`` ``{"booking_number": "..."}`` -> 200 ``{"booking_number", "biometrics_id", "recorded": true}``:
the office took the photo and fingerprints; repeated, the same answer. 404 ``unknown-booking``.

``POST /passports`` ``{"booking_number": "...", "validity_years": 7}`` -> 201 ``{"passport_number":
"P12345678", "national_code", "issued_on", "valid_until", "valid_until_jalali"}``, once the biometrics
are recorded (else 409 ``no-biometrics``); repeated, the same passport. Malformed national codes are 404 as the civil
registry's (``invalid-national-code``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from fastapi import FastAPI, Query
from persiantools.digits import en_to_fa
from persiantools.jdatetime import JalaliDate
from pydantic import BaseModel, Field

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.behaviour import ServiceState
from connectors.simulators.civil_registry import require_valid
from connectors.simulators.data import REGIONS, Draw
from forms.identifiers import check_postal_code

SLOT_DAYS = 3
SLOT_TIMES = ("09:00", "11:00")
# Python's weekday(): Monday is 0. Police+10 offices take appointments Saturday to Wednesday.
_CLOSED = {3, 4}  # Thursday, Friday
_WEEKDAYS_FA = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Office(BaseModel):
    code: str
    name_fa: str
    name_en: str


class Slot(BaseModel):
    slot_id: str
    date: str
    jalali_date: str
    time: str
    label_fa: str
    label_en: str


class Slots(BaseModel):
    office: Office
    slots: list[Slot]


class BookingAsked(BaseModel):
    national_code: str = Field(min_length=1, max_length=20)
    slot_id: str = Field(min_length=1, max_length=64)


class Booking(BaseModel):
    booking_number: str
    national_code: str
    slot_id: str
    office_code: str
    date: str
    time: str


class BiometricsAsked(BaseModel):
    booking_number: str = Field(min_length=1, max_length=32)


class Biometrics(BaseModel):
    booking_number: str
    biometrics_id: str
    recorded: bool


class PassportAsked(BaseModel):
    booking_number: str = Field(min_length=1, max_length=32)
    validity_years: int = Field(ge=1, le=10)


class Passport(BaseModel):
    passport_number: str
    national_code: str
    issued_on: str
    valid_until: str
    valid_until_jalali: str


def nearest_office(postal_code: str) -> Office:
    """The Police+10 office serving a postal code's area (its first five digits)."""
    return _office_of_area(postal_code[:5])


def _office_of_area(area: str) -> Office:
    province, city = Draw("passport-office", area).pick(REGIONS.get(area[0], REGIONS["1"]))
    number = en_to_fa(area)
    return Office(code=f"P10-{area}", name_fa=f"دفتر پلیس+۱۰ کد {number}، {city}",
                  name_en=f"Police+10 office {area}, {_CITY_EN.get(city, province)}")


_CITY_EN = {"تهران": "Tehran", "کرج": "Karaj", "اصفهان": "Isfahan", "مشهد": "Mashhad", "شیراز": "Shiraz",
            "تبریز": "Tabriz", "اهواز": "Ahvaz", "رشت": "Rasht", "یزد": "Yazd"}


def working_days(after: date, count: int) -> list[date]:
    """The next `count` days after `after` on which offices take appointments."""
    found: list[date] = []
    day = after
    while len(found) < count:
        day += timedelta(days=1)
        if day.weekday() not in _CLOSED:
            found.append(day)
    return found


def _jalali_text(day: date) -> str:
    jalali = JalaliDate.to_jalali(day)  # type: ignore[no-untyped-call]
    return f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}"


def offered_slots(office: Office, today: date) -> list[Slot]:
    """Every slot of `office` on the next working days, booked or not, oldest first."""
    slots = []
    for day in working_days(today, SLOT_DAYS):
        jalali_text = _jalali_text(day)
        for at in SLOT_TIMES:
            slots.append(Slot(
                slot_id=f"{office.code}-{day:%Y%m%d}-{at.replace(':', '')}", date=day.isoformat(),
                jalali_date=jalali_text, time=at,
                label_fa=f"{_WEEKDAYS_FA[day.weekday()]} {en_to_fa(jalali_text)} ساعت {en_to_fa(at)}، {office.name_fa}",
                label_en=f"{_WEEKDAYS_EN[day.weekday()]} {day:%d %B %Y} ({jalali_text}), {at}, {office.name_en}"))
    return slots


def _postal_code(raw: str) -> str:
    if check_postal_code(raw) is not None:
        raise AgencyError(422, "invalid-postal-code", "not a valid postal code")
    return raw


def build(state: ServiceState, today: Callable[[], date]) -> FastAPI:
    app = new_agency_app("Police for immigration and passports (sandbox)", __doc__ or "")
    holders: dict[str, str] = {}  # slot id -> national code
    bookings: dict[str, Booking] = {}  # booking number -> booking
    recorded: set[str] = set()
    passports: dict[str, Passport] = {}

    def free(postal_code: str) -> Slots:
        office = nearest_office(postal_code)
        return Slots(office=office, slots=[s for s in offered_slots(office, today()) if s.slot_id not in holders])

    @app.get("/appointments/slots")
    async def slots(postal_code: str = Query(min_length=1, max_length=20)) -> Slots:
        """The nearest office's free biometrics slots."""
        return free(_postal_code(postal_code))

    @app.post("/appointments", status_code=201)
    async def book(asked: BookingAsked) -> Booking:
        """Book a slot for a person."""
        require_valid(asked.national_code)
        parts = asked.slot_id.split("-")
        area = parts[1] if len(parts) == 4 and parts[0] == "P10" else ""
        office = _office_of_area(area) if check_postal_code(area + "11111") is None else None
        offered = {s.slot_id: s for s in offered_slots(office, today())} if office else {}
        slot = offered.get(asked.slot_id)
        if slot is None:
            raise AgencyError(422, "unknown-slot", "this slot is not offered")
        holder = holders.get(slot.slot_id)
        number = f"BIO-{Draw('passport-booking', slot.slot_id + asked.national_code).below(10**8):08d}"
        if holder is not None and holder != asked.national_code:
            raise AgencyError(409, "slot-taken", "someone else has booked this slot")
        if holder is None:
            for earlier in [b for b in bookings.values() if b.national_code == asked.national_code]:
                holders.pop(earlier.slot_id, None)
                del bookings[earlier.booking_number]
            holders[slot.slot_id] = asked.national_code
            bookings[number] = Booking(booking_number=number, national_code=asked.national_code,
                                       slot_id=slot.slot_id, office_code=f"P10-{area}", date=slot.date, time=slot.time)
            state.side_effects += 1
        return bookings[number]

    def booking(number: str) -> Booking:
        found = bookings.get(number)
        if found is None:
            raise AgencyError(404, "unknown-booking", "no booking with this number")
        return found

    @app.post("/biometrics")
    async def biometrics(asked: BiometricsAsked) -> Biometrics:
        """Record that the office took the photo and fingerprints of a booking's holder."""
        found = booking(asked.booking_number)
        if found.booking_number not in recorded:
            recorded.add(found.booking_number)
            state.side_effects += 1
        serial = Draw("passport-biometrics", found.booking_number).below(10**10)
        return Biometrics(booking_number=found.booking_number, biometrics_id=f"BM-{serial:010d}", recorded=True)

    @app.post("/passports", status_code=201)
    async def passport(asked: PassportAsked) -> Passport:
        """Issue the passport of a booking whose biometrics are recorded."""
        found = booking(asked.booking_number)
        if found.booking_number not in recorded:
            raise AgencyError(409, "no-biometrics", "the biometrics of this booking are not recorded")
        if found.booking_number not in passports:
            issued = today()
            until = issued.replace(year=issued.year + asked.validity_years) if (issued.month, issued.day) != (2, 29) \
                else date(issued.year + asked.validity_years, 2, 28)
            serial = Draw("passport-number", found.national_code + found.booking_number).below(10**8)
            passports[found.booking_number] = Passport(
                passport_number=f"P{serial:08d}", national_code=found.national_code, issued_on=issued.isoformat(),
                valid_until=until.isoformat(), valid_until_jalali=_jalali_text(until))
            state.side_effects += 1
        return passports[found.booking_number]

    return app
