"""A notary office's vehicle sale deed (سند قطعی): drawn up and registered once per case."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation

CODE = Field(pattern=r"^[0-9]{10}$", description="10-digit national code")


class DeedAsked(BaseModel):
    plate: str = Field(min_length=1, max_length=64)
    vin: str = Field(pattern=r"^[A-HJ-NPR-Z0-9]{17}$")
    seller_national_code: str = CODE
    buyer_national_code: str = CODE


class Deed(BaseModel):
    deed_number: str
    registered: bool
    plate: str
    seller_national_code: str
    buyer_national_code: str


class Notary(Connector):
    id: ClassVar[str] = "notary"
    title: ClassVar[dict[str, str]] = {"fa": "دفتر اسناد رسمی", "en": "Notary office"}
    agency: ClassVar[str] = "notary"

    @operation(title={"fa": "دفتر اسناد رسمی: تنظیم و ثبت سند قطعی خودرو",
                      "en": "Notary office: draw up and register a vehicle's sale deed"},
               fields=("seller_national_code", "buyer_national_code"))
    def sale_deed(self, ctx: ConnectorContext, params: DeedAsked) -> Deed:
        # The case is the deed's key at the notary: a retried call, or a second run of this task
        # in the same case, gets the deed already registered instead of a second sale.
        response = request(ctx, "POST", f"{self.setting('base_url')}/deeds",
                           json={"case_id": ctx.case_id, **params.model_dump()},
                           headers={"Idempotency-Key": ctx.idempotency_key})
        return Deed.model_validate(response.json())
