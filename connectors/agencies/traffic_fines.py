"""The Traffic Police's fines inquiry (استعلام خلافی): the no-fines certificate, fetched not carried."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.agencies.vehicle_registry import PlateQuery
from connectors.sdk import Connector, ConnectorContext, operation


class Fine(BaseModel):
    date: str = Field(description="Jalali YYYY/MM/DD")
    offence: str
    amount_rial: int


class FineStatement(BaseModel):
    plate: str
    unpaid_count: int
    unpaid_total_rial: int
    fines: list[Fine] = Field(max_length=5, description="at most five unpaid fines, newest first")
    clearance_number: str | None = Field(description="the no-fines certificate's number; null while any is unpaid")


class TrafficFines(Connector):
    id: ClassVar[str] = "traffic_fines"
    title: ClassVar[dict[str, str]] = {"fa": "خلافی خودرو، پلیس راهور", "en": "Traffic Police fines"}
    agency: ClassVar[str] = "traffic_police"

    @operation(title={"fa": "پلیس راهور: استعلام خلافی خودرو با شماره پلاک",
                      "en": "Traffic Police: unpaid fines of a plate"},
               fields=("unpaid_count", "unpaid_total_rial"))
    def unpaid_fines(self, ctx: ConnectorContext, params: PlateQuery) -> FineStatement:
        response = request(ctx, "GET", f"{self.setting('base_url')}/fines", params={"plate": params.plate})
        return FineStatement.model_validate(response.json())
