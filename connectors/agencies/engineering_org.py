"""The construction engineering organisation (سازمان نظام مهندسی ساختمان): an engineer's licence."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class MemberQuery(BaseModel):
    membership_number: str = Field(pattern=r"^[0-9]{2}-[0-9]{2}-[0-9]{5}$",
                                   description="membership number, such as 01-10-12345")


class Member(BaseModel):
    membership_number: str
    name: str
    discipline: str = Field(description="architecture, civil, mechanical or electrical")
    grade: str = Field(description="licence grade: 3, 2, 1 or senior")
    max_floors: int = Field(description="the most floors the grade may design")
    valid_until: str = Field(description="Jalali YYYY/MM/DD")
    status: str = Field(description="active, suspended or expired")


class EngineeringOrganisation(Connector):
    id: ClassVar[str] = "engineering_org"
    title: ClassVar[dict[str, str]] = {"fa": "سازمان نظام مهندسی ساختمان", "en": "Engineering organisation"}
    agency: ClassVar[str] = "engineering_org"

    @operation(title={"fa": "نظام مهندسی: پروانه اشتغال مهندس با شماره عضویت",
                      "en": "Engineering organisation: licence by membership number"},
               fields=("name",))
    def member_licence(self, ctx: ConnectorContext, params: MemberQuery) -> Member:
        response = request(ctx, "GET", f"{self.setting('base_url')}/members/{params.membership_number}")
        return Member.model_validate(response.json())
