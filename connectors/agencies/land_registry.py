"""Deeds registration (ثبت اسناد و املاک): the title deed inquiry (استعلام ثبتی), fetched not carried."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class OwnerQuery(BaseModel):
    national_code: str = Field(pattern=r"^[0-9]{10}$", description="10-digit national code of an owner")


class DeedQuery(BaseModel):
    deed_number: str = Field(pattern=r"^[0-9]{12}$", description="12-digit serial of a single-page deed")


class Owner(BaseModel):
    national_code: str
    name: str
    share: int = Field(description="share in dang (sixths)")


class Encumbrance(BaseModel):
    kind: str = Field(description="mortgage (رهن) or seizure (بازداشت)")
    by: str
    since: str = Field(description="Jalali YYYY/MM/DD")
    blocks_permit: bool


class Deed(BaseModel):
    deed_number: str
    plate: str = Field(description="registration plate as section-main-sub")
    section: int
    main_plate: int
    sub_plate: int
    owners: list[Owner]
    area_m2: int
    use: str
    postal_code: str
    address: str
    encumbrances: list[Encumbrance]
    permit_blocked: bool = Field(description="an encumbrance stops a building permit")


class OwnedDeeds(BaseModel):
    national_code: str
    deeds: list[Deed]


class LandRegistry(Connector):
    id: ClassVar[str] = "land_registry"
    title: ClassVar[dict[str, str]] = {"fa": "سازمان ثبت اسناد و املاک", "en": "Deeds registration"}
    agency: ClassVar[str] = "land_registry"

    @operation(title={"fa": "ثبت اسناد: سندهای مالکیت به نام کد ملی", "en": "Deeds registration: deeds by owner"},
               fields=("deeds",))
    def deeds_by_owner(self, ctx: ConnectorContext, params: OwnerQuery) -> OwnedDeeds:
        response = request(ctx, "GET", f"{self.setting('base_url')}/owners/{params.national_code}/deeds")
        return OwnedDeeds.model_validate(response.json())

    @operation(title={"fa": "ثبت اسناد: سند مالکیت با شماره سند", "en": "Deeds registration: deed by number"},
               fields=("owners", "postal_code", "address"))
    def deed_by_number(self, ctx: ConnectorContext, params: DeedQuery) -> Deed:
        response = request(ctx, "GET", f"{self.setting('base_url')}/deeds/{params.deed_number}")
        return Deed.model_validate(response.json())
