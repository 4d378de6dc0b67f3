"""Police for immigration and passports: biometrics appointments at a Police+10 office, and the passport.

The biometrics visit stays (photo and fingerprints are taken in person) but is booked online from the
slots of the office nearest the citizen's registered residence; the office records that it took them,
and issues the passport the police approved. A slot taken meanwhile by someone else is the final
error ``slot-taken``.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.failures import from_http_error, from_response
from connectors.sdk import Connector, ConnectorContext, ConnectorError, operation

# The office's answers that mean "choose another slot": a model catches this code with an error
# boundary event and offers the slots afresh.
SLOT_TAKEN = "slot-taken"


class SlotsQuery(BaseModel):
    postal_code: str = Field(pattern=r"^[0-9]{10}$", description="the residence's postal code")


class Office(BaseModel):
    code: str
    name_fa: str
    name_en: str


class Slot(BaseModel):
    slot_id: str
    date: str = Field(description="ISO date")
    jalali_date: str = Field(description="Jalali YYYY/MM/DD")
    time: str = Field(description="HH:MM, Tehran time")
    label_fa: str
    label_en: str


class Slots(BaseModel):
    office: Office
    slots: list[Slot] = Field(max_length=50)


class BookingAsked(BaseModel):
    national_code: str = Field(pattern=r"^[0-9]{10}$")
    slot_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


class Booking(BaseModel):
    booking_number: str
    national_code: str
    slot_id: str
    office_code: str
    date: str
    time: str


class BiometricsAsked(BaseModel):
    booking_number: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")


class Biometrics(BaseModel):
    booking_number: str
    biometrics_id: str
    recorded: bool


class PassportAsked(BaseModel):
    booking_number: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")
    validity_years: int = Field(ge=1, le=10)


class Passport(BaseModel):
    passport_number: str
    national_code: str
    issued_on: str
    valid_until: str = Field(description="ISO date")
    valid_until_jalali: str = Field(description="Jalali YYYY/MM/DD")


class PassportOffice(Connector):
    id: ClassVar[str] = "passport_office"
    title: ClassVar[dict[str, str]] = {"fa": "پلیس مهاجرت و گذرنامه", "en": "Immigration and passport police"}
    agency: ClassVar[str] = "passport_office"

    @operation(title={"fa": "گذرنامه: نوبت‌های خالی انگشت‌نگاری در نزدیک‌ترین دفتر",
                      "en": "Passports: free biometrics slots at the nearest office"},
               fields=())
    def appointment_slots(self, ctx: ConnectorContext, params: SlotsQuery) -> Slots:
        response = request(ctx, "GET", f"{self.setting('base_url')}/appointments/slots",
                           params={"postal_code": params.postal_code})
        return Slots.model_validate(response.json())

    @operation(title={"fa": "گذرنامه: گرفتن نوبت انگشت‌نگاری", "en": "Passports: book a biometrics slot"},
               fields=("booking_number", "slot_id", "office_code", "date", "time"))
    def book_appointment(self, ctx: ConnectorContext, params: BookingAsked) -> Booking:
        try:
            response = ctx.http.post(f"{self.setting('base_url')}/appointments", json=params.model_dump())
        except httpx.HTTPError as error:
            raise from_http_error(error) from error
        if response.status_code in (409, 422) and _error_of(response) in ("slot-taken", "unknown-slot"):
            raise ConnectorError(SLOT_TAKEN, "the slot is no longer free (booked by someone else, or past)")
        if response.status_code >= 400:
            raise from_response(response)
        return Booking.model_validate(response.json())

    @operation(title={"fa": "گذرنامه: ثبت انجام انگشت‌نگاری", "en": "Passports: record the biometrics taken"},
               fields=("biometrics_id", "recorded"))
    def record_biometrics(self, ctx: ConnectorContext, params: BiometricsAsked) -> Biometrics:
        response = request(ctx, "POST", f"{self.setting('base_url')}/biometrics", json=params.model_dump())
        return Biometrics.model_validate(response.json())

    @operation(title={"fa": "گذرنامه: صدور گذرنامه", "en": "Passports: issue the passport"},
               fields=("passport_number", "issued_on", "valid_until", "valid_until_jalali"))
    def issue_passport(self, ctx: ConnectorContext, params: PassportAsked) -> Passport:
        response = request(ctx, "POST", f"{self.setting('base_url')}/passports", json=params.model_dump())
        return Passport.model_validate(response.json())


def _error_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("error")) if isinstance(body, dict) else None
