"""National Organization for Civil Registration: a person, their marriage, permitted first names, birth registration."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class PersonQuery(BaseModel):
    national_code: str = Field(pattern=r"^[0-9]{10}$", description="10-digit national code")


class Person(BaseModel):
    national_code: str
    first_name: str
    last_name: str
    father_name: str
    birth_date: str = Field(description="Jalali YYYY/MM/DD")
    gender: str
    alive: bool
    postal_code: str = Field(description="postal code of the registered residence")


class Marriage(BaseModel):
    national_code: str
    registered: bool
    spouse_national_code: str | None
    marriage_date: str | None = Field(description="Jalali YYYY/MM/DD")
    marriage_number: str | None


class NameQuery(BaseModel):
    first_name: str = Field(min_length=1, max_length=60)
    sex: Literal["male", "female"]


class NameCheck(BaseModel):
    name: str = Field(description="the name as the registry writes it")
    permitted: bool
    refusal: str | None = Field(description="title, other_sex or not_listed")
    reason_fa: str | None
    reason_en: str | None


class BirthDeclaration(BaseModel):
    birth_record_number: str = Field(pattern=r"^[0-9]{12}$", description="the hospital's birth record number")
    mother_national_code: str = Field(pattern=r"^[0-9]{10}$")
    father_national_code: str = Field(pattern=r"^[0-9]{10}$")
    first_name: str = Field(min_length=1, max_length=60)
    last_name: str = Field(min_length=1, max_length=60)
    sex: Literal["male", "female"]
    birth_date: str = Field(pattern=r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$", description="Jalali YYYY/MM/DD")


class RegisteredBirth(BaseModel):
    national_code: str = Field(description="the child's national code, the same when the birth is registered again")
    birth_record_number: str
    first_name: str
    last_name: str


class CivilRegistry(Connector):
    id: ClassVar[str] = "civil_registry"
    title: ClassVar[dict[str, str]] = {"fa": "ثبت احوال", "en": "Civil registry"}
    agency: ClassVar[str] = "civil_registration"

    @operation(title={"fa": "ثبت احوال: مشخصات فرد با کد ملی", "en": "Civil registry: person by national code"},
               fields=("first_name", "last_name", "father_name", "birth_date", "gender", "alive", "postal_code"))
    def person_by_national_code(self, ctx: ConnectorContext, params: PersonQuery) -> Person:
        response = request(ctx, "GET", f"{self.setting('base_url')}/persons/{params.national_code}")
        return Person.model_validate(response.json())

    @operation(title={"fa": "ثبت احوال: ازدواج ثبت‌شده با کد ملی", "en": "Civil registry: registered marriage"},
               fields=("registered", "spouse_national_code", "marriage_date", "marriage_number"))
    def marriage_by_national_code(self, ctx: ConnectorContext, params: PersonQuery) -> Marriage:
        response = request(ctx, "GET", f"{self.setting('base_url')}/marriages/{params.national_code}")
        return Marriage.model_validate(response.json())

    @operation(title={"fa": "ثبت احوال: بررسی نام در فهرست نام‌های مجاز",
                      "en": "Civil registry: is the first name permitted"})
    def check_first_name(self, ctx: ConnectorContext, params: NameQuery) -> NameCheck:
        response = request(ctx, "GET", f"{self.setting('base_url')}/first-names/check",
                           params={"name": params.first_name, "sex": params.sex})
        return NameCheck.model_validate(response.json())

    @operation(title={"fa": "ثبت احوال: ثبت ولادت و تخصیص کد ملی", "en": "Civil registry: register a birth"},
               fields=("national_code", "first_name", "last_name"))
    def register_birth(self, ctx: ConnectorContext, params: BirthDeclaration) -> RegisteredBirth:
        response = request(ctx, "POST", f"{self.setting('base_url')}/births", json=params.model_dump())
        return RegisteredBirth.model_validate(response.json())
