"""Fire department (سازمان آتش‌نشانی و خدمات ایمنی): safety review of a building's plans.

``POST /plan-reviews`` ``{"plate": "3-1187-42", "floors": 8, "built_area_m2": 2400, "use": "residential"}``
-> 200::

    {"review_number": "FD-3-1187-42-8-2400", "plate": "3-1187-42", "decision": "conditional",
     "conditions": ["..."], "reasons": []}

The review follows from the figures alone, so the same plans always get the same answer:
``refused`` above 12 floors (beyond the reach of the city's ladders; ``reasons`` says so);
``conditional`` above 8 floors or 2,000 m² (``conditions`` lists the fire escapes, alarms and
sprinklers asked); otherwise ``approved``. A commercial building over 4 floors also needs a
sprinkler system. Bad figures get 422 ``{"error": "invalid-request", ...}``.
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

from connectors.simulators.agency import new_agency_app

LADDER_FLOORS = 12
ESCAPE_FLOORS = 8
LARGE_AREA_M2 = 2000
ESCAPE = "دو راه‌پله فرار جدا از هم با درهای ضد حریق"
ALARM = "سامانه اعلام حریق نشانی‌پذیر در همه طبقه‌ها"
SPRINKLER = "سامانه بارنده خودکار (اسپرینکلر) در همه طبقه‌ها"
TOO_TALL = f"ساختمان بیش از {LADDER_FLOORS} طبقه از دسترس نردبان‌های آتش‌نشانی شهر بیرون است"


class PlanReviewRequest(BaseModel):
    plate: str = Field(pattern=re.compile(r"^[0-9]{1,2}-[0-9]{1,5}-[0-9]{1,5}$").pattern)
    floors: int = Field(ge=1, le=60)
    built_area_m2: int = Field(ge=1, le=200_000)
    use: Literal["residential", "commercial"]


class PlanReview(BaseModel):
    review_number: str
    plate: str
    decision: Literal["approved", "conditional", "refused"]
    conditions: list[str]
    reasons: list[str]


def review(asked: PlanReviewRequest) -> PlanReview:
    """The department's answer to these plans."""
    number = f"FD-{asked.plate}-{asked.floors}-{asked.built_area_m2}"
    if asked.floors > LADDER_FLOORS:
        return PlanReview(review_number=number, plate=asked.plate, decision="refused", conditions=[],
                          reasons=[TOO_TALL])
    conditions = []
    if asked.floors > ESCAPE_FLOORS or asked.built_area_m2 > LARGE_AREA_M2:
        conditions += [ESCAPE, ALARM]
    if (asked.use == "commercial" and asked.floors > 4) or asked.floors > ESCAPE_FLOORS:
        conditions.append(SPRINKLER)
    return PlanReview(review_number=number, plate=asked.plate, decision="conditional" if conditions else "approved",
                      conditions=conditions, reasons=[])


def build() -> FastAPI:
    app = new_agency_app("Fire department plan review (sandbox)", __doc__ or "")

    @app.post("/plan-reviews")
    async def plan_review(asked: PlanReviewRequest) -> PlanReview:
        """Review a building's plans for fire safety."""
        return review(asked)

    return app
