"""The conscription organisation: military-service status (وضعیت نظام وظیفه), instead of the card."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class StatusQuery(BaseModel):
    national_code: str = Field(pattern=r"^[0-9]{10}$", description="10-digit national code")


class ServiceStatus(BaseModel):
    national_code: str
    status: str = Field(description="completed, exempt, serving, absent or not_applicable (women, under 18)")
    card_number: str | None = Field(description="the service-completion or exemption card, when there is one")
    gender: str
    birth_date: str = Field(description="Jalali YYYY/MM/DD, as the civil registry has it")


class Conscription(Connector):
    id: ClassVar[str] = "conscription"
    title: ClassVar[dict[str, str]] = {"fa": "سازمان وظیفه عمومی", "en": "Conscription organisation"}
    agency: ClassVar[str] = "conscription"

    @operation(title={"fa": "نظام وظیفه: وضعیت خدمت با کد ملی",
                      "en": "Conscription: military-service status by national code"},
               fields=("status", "card_number", "gender", "birth_date"))
    def service_status(self, ctx: ConnectorContext, params: StatusQuery) -> ServiceStatus:
        response = request(ctx, "GET", f"{self.setting('base_url')}/service-status/{params.national_code}")
        return ServiceStatus.model_validate(response.json())
