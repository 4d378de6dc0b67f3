"""Central Insurance's third-party policy inquiry (استعلام بیمه شخص ثالث), fetched not carried."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.agencies.vehicle_registry import PlateQuery
from connectors.sdk import Connector, ConnectorContext, operation


class Policy(BaseModel):
    plate: str
    insurer: str
    policy_number: str
    valid_until: str = Field(description="Jalali YYYY/MM/DD")
    valid: bool = Field(description="whether the policy covers today")


class Insurer(Connector):
    id: ClassVar[str] = "insurer"
    title: ClassVar[dict[str, str]] = {"fa": "بیمه مرکزی", "en": "Central Insurance"}
    agency: ClassVar[str] = "central_insurance"

    @operation(title={"fa": "بیمه مرکزی: استعلام بیمه شخص ثالث با شماره پلاک",
                      "en": "Central Insurance: third-party policy of a plate"},
               fields=("policy_number", "valid_until", "valid"))
    def third_party_policy(self, ctx: ConnectorContext, params: PlateQuery) -> Policy:
        response = request(ctx, "GET", f"{self.setting('base_url')}/third-party", params={"plate": params.plate})
        return Policy.model_validate(response.json())
