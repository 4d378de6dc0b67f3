"""The municipality's annual vehicle toll (عوارض سالیانه خودرو): the clearance, fetched not carried."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.agencies.vehicle_registry import PlateQuery
from connectors.sdk import Connector, ConnectorContext, operation


class TaxStatement(BaseModel):
    plate: str
    unpaid_years: list[int] = Field(max_length=50, description="Jalali years whose toll is unpaid")
    unpaid_rial: int
    clearance_number: str | None = Field(description="the toll clearance's number; null while any year is unpaid")


class VehicleTax(Connector):
    id: ClassVar[str] = "vehicle_tax"
    title: ClassVar[dict[str, str]] = {"fa": "عوارض خودرو، شهرداری", "en": "Municipal vehicle tax"}
    agency: ClassVar[str] = "municipality"

    @operation(title={"fa": "شهرداری: استعلام عوارض سالیانه خودرو با شماره پلاک",
                      "en": "Municipality: unpaid annual vehicle toll of a plate"},
               fields=("unpaid_years", "unpaid_rial"))
    def unpaid_tax(self, ctx: ConnectorContext, params: PlateQuery) -> TaxStatement:
        response = request(ctx, "GET", f"{self.setting('base_url')}/vehicle-tax", params={"plate": params.plate})
        return TaxStatement.model_validate(response.json())
