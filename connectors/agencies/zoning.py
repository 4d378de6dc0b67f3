"""The municipality's detailed plan (طرح تفصیلی): what may be built on a parcel, fetched not asked."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class ParcelQuery(BaseModel):
    plate: str = Field(pattern=r"^[0-9]{1,2}-[0-9]{1,5}-[0-9]{1,5}$",
                       description="registration plate as section-main-sub, such as 7-4521-123")


class Zoning(BaseModel):
    plate: str
    zone: str = Field(description="residential_low, residential_medium, residential_high or commercial")
    zone_code: str
    permitted_use: str
    max_floors: int
    density_percent: int = Field(description="built area allowed, as a percentage of the parcel's area")
    setback_m: float
    plan: str


class MunicipalZoning(Connector):
    id: ClassVar[str] = "zoning"
    title: ClassVar[dict[str, str]] = {"fa": "شهرداری: طرح تفصیلی", "en": "Municipality zoning"}
    agency: ClassVar[str] = "municipality"

    @operation(title={"fa": "شهرداری: ضوابط طرح تفصیلی برای پلاک", "en": "Municipality: zoning of a parcel"})
    def parcel_zoning(self, ctx: ConnectorContext, params: ParcelQuery) -> Zoning:
        response = request(ctx, "GET", f"{self.setting('base_url')}/parcels/{params.plate}/zoning")
        return Zoning.model_validate(response.json())
