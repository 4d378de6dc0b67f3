"""The mobile-ownership check: does this mobile number belong to this national code."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class OwnershipQuery(BaseModel):
    national_code: str = Field(pattern=r"^[0-9]{10}$")
    mobile: str = Field(pattern=r"^09[0-9]{9}$")


class Ownership(BaseModel):
    match: bool


class MobileRegistry(Connector):
    id: ClassVar[str] = "mobile_registry"
    title: ClassVar[dict[str, str]] = {"fa": "احراز مالکیت خط همراه", "en": "Mobile ownership"}
    agency: ClassVar[str] = "communications_regulatory"

    @operation(title={"fa": "آیا این شماره همراه به نام این کد ملی است؟",
                      "en": "Mobile ownership: does this number belong to this national code"},
               fields=("match",))
    def owns_mobile(self, ctx: ConnectorContext, params: OwnershipQuery) -> Ownership:
        response = request(ctx, "POST", f"{self.setting('base_url')}/ownership", json=params.model_dump())
        return Ownership.model_validate(response.json())
