"""National Organization for Civil Registration: a person by national code."""

from __future__ import annotations

from typing import ClassVar

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


class CivilRegistry(Connector):
    id: ClassVar[str] = "civil_registry"
    title: ClassVar[dict[str, str]] = {"fa": "ثبت احوال", "en": "Civil registry"}
    agency: ClassVar[str] = "civil_registration"

    @operation(title={"fa": "ثبت احوال: مشخصات فرد با کد ملی", "en": "Civil registry: person by national code"},
               fields=("first_name", "last_name", "father_name", "birth_date", "gender", "alive", "postal_code"))
    def person_by_national_code(self, ctx: ConnectorContext, params: PersonQuery) -> Person:
        response = request(ctx, "GET", f"{self.setting('base_url')}/persons/{params.national_code}")
        return Person.model_validate(response.json())
