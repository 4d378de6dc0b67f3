"""The tax office: whether a person or company is registered and owes anything."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class TaxpayerQuery(BaseModel):
    taxpayer_id: str = Field(pattern=r"^([0-9]{10}|[0-9]{11})$",
                             description="a national code (10 digits) or a legal-entity ID (11 digits)")


class TaxStatus(BaseModel):
    id: str
    kind: str
    registered: bool
    debt_rial: int
    clearance: bool = Field(description="no tax debt: a clearance can be issued")


class TaxOffice(Connector):
    id: ClassVar[str] = "tax"
    title: ClassVar[dict[str, str]] = {"fa": "سازمان امور مالیاتی", "en": "Tax office"}
    agency: ClassVar[str] = "tax_administration"

    @operation(title={"fa": "مالیات: وضعیت مالیاتی با کد ملی یا شناسه ملی",
                      "en": "Tax office: tax status by national code or legal ID"},
               fields=("registered", "debt_rial", "clearance"))
    def taxpayer_status(self, ctx: ConnectorContext, params: TaxpayerQuery) -> TaxStatus:
        response = request(ctx, "GET", f"{self.setting('base_url')}/taxpayers/{params.taxpayer_id}")
        return TaxStatus.model_validate(response.json())
