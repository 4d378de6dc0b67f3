"""The weather office's forecasts, as a Panjereh connector."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.sdk import Connector, ConnectorContext, ConnectorError, operation


class ForecastParams(BaseModel):
    city: str = Field(min_length=2, max_length=60, pattern=r"^[^\d]+$",
                      json_schema_extra={"x-title": {"fa": "شهر", "en": "City"}})
    days: int = Field(1, ge=1, le=7, json_schema_extra={"x-title": {"fa": "چند روز", "en": "Days ahead"}})


class Forecast(BaseModel):
    city: str
    celsius: float
    summary: str


class WeatherOffice(Connector):
    id = "weather_office"
    title: ClassVar[dict[str, str]] = {"fa": "سازمان هواشناسی", "en": "Weather office"}
    agency = "meteorological_organization"

    @operation(title={"fa": "پیش‌بینی هوا", "en": "Weather forecast"},
               description={"fa": "دمای هوا و وضع آسمان یک شهر", "en": "Temperature and sky for one city"})
    def forecast(self, ctx: ConnectorContext, params: ForecastParams) -> Forecast:
        response = ctx.http.get(
            f"{self.setting('base_url')}/forecast", params={"city": params.city, "days": params.days},
            headers={"Authorization": f"Bearer {ctx.secret('weather_office_token')}"})
        if response.status_code == 404:
            raise ConnectorError("unknown-city", "the weather office has no forecast for that city")
        response.raise_for_status()
        body = response.json()
        return Forecast(city=body["city"], celsius=body["celsius"], summary=body["summary"])
