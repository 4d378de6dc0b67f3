"""The Ministry of Health: the hospital's electronic birth record (گواهی ولادت), fetched not carried."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class ParentQuery(BaseModel):
    national_code: str = Field(pattern=r"^[0-9]{10}$", description="the mother's or the father's national code")


class BirthRecord(BaseModel):
    """The newest birth record naming the parent; `found` false (and every other field null) when none."""

    found: bool
    record_number: str | None = Field(None, description="the hospital's birth record number")
    newborn_sex: str | None = Field(None, description="male or female")
    birth_date: str | None = Field(None, description="Jalali YYYY/MM/DD")
    birth_date_gregorian: str | None = Field(None, description="ISO YYYY-MM-DD, for counting days")
    birth_time: str | None = Field(None, description="HH:MM, Iran time")
    hospital: str | None = None
    city: str | None = None
    weight_g: int | None = None
    mother_national_code: str | None = None
    father_national_code: str | None = None


class HealthMinistry(Connector):
    id: ClassVar[str] = "health_ministry"
    title: ClassVar[dict[str, str]] = {"fa": "وزارت بهداشت", "en": "Ministry of Health"}
    agency: ClassVar[str] = "health_ministry"

    @operation(title={"fa": "وزارت بهداشت: گواهی ولادت با کد ملی پدر یا مادر",
                      "en": "Ministry of Health: birth record by a parent's national code"},
               fields=("newborn_sex", "birth_date", "birth_time", "hospital", "city", "weight_g",
                       "mother_national_code", "father_national_code"))
    def birth_record_by_parent(self, ctx: ConnectorContext, params: ParentQuery) -> BirthRecord:
        response = request(ctx, "GET", f"{self.setting('base_url')}/birth-records",
                           params={"parent_national_code": params.national_code})
        records = response.json()["records"]
        if not records:
            return BirthRecord(found=False)
        return BirthRecord.model_validate({"found": True, **records[0]})
