"""The companies registry: a company and its managers by legal-entity ID."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class CompanyQuery(BaseModel):
    legal_id: str = Field(pattern=r"^[0-9]{11}$", description="11-digit legal-entity national ID")


class Manager(BaseModel):
    national_code: str
    name: str
    role: str


class Company(BaseModel):
    legal_id: str
    name: str
    registered_at: str = Field(description="Jalali YYYY/MM/DD")
    status: str
    managers: list[Manager]


class BusinessRegistry(Connector):
    id: ClassVar[str] = "business_registry"
    title: ClassVar[dict[str, str]] = {"fa": "ثبت شرکت‌ها", "en": "Business registry"}
    agency: ClassVar[str] = "companies_registration"

    @operation(title={"fa": "ثبت شرکت‌ها: مشخصات شرکت با شناسه ملی",
                      "en": "Business registry: company by legal ID"},
               fields=("name", "registered_at", "status", "managers"))
    def company_by_legal_id(self, ctx: ConnectorContext, params: CompanyQuery) -> Company:
        response = request(ctx, "GET", f"{self.setting('base_url')}/companies/{params.legal_id}")
        return Company.model_validate(response.json())
