"""The fire department's safety review of a building's plans (تأییدیه آتش‌نشانی), asked not carried."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class PlanReviewRequest(BaseModel):
    plate: str = Field(pattern=r"^[0-9]{1,2}-[0-9]{1,5}-[0-9]{1,5}$")
    floors: int = Field(ge=1, le=60)
    built_area_m2: int = Field(ge=1, le=200_000)
    use: Literal["residential", "commercial"]


class PlanReview(BaseModel):
    review_number: str
    plate: str
    decision: str = Field(description="approved, conditional or refused")
    conditions: list[str]
    reasons: list[str]


class FireDepartment(Connector):
    id: ClassVar[str] = "fire_department"
    title: ClassVar[dict[str, str]] = {"fa": "سازمان آتش‌نشانی", "en": "Fire department"}
    agency: ClassVar[str] = "fire_department"

    @operation(title={"fa": "آتش‌نشانی: بررسی ایمنی نقشه‌ها", "en": "Fire department: plan safety review"})
    def plan_review(self, ctx: ConnectorContext, params: PlanReviewRequest) -> PlanReview:
        response = request(ctx, "POST", f"{self.setting('base_url')}/plan-reviews", json=params.model_dump())
        return PlanReview.model_validate(response.json())
