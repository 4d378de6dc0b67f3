"""The Traffic Police's vehicle registry: a vehicle and its owner by plate, fetched not carried."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation

PLATE = Field(min_length=1, max_length=64, description="the plate as written, e.g. 12 ب 345 ایران 67")


class PlateQuery(BaseModel):
    plate: str = PLATE


class VinQuery(BaseModel):
    vin: str = Field(pattern=r"^[A-HJ-NPR-Z0-9]{17}$", description="the 17-character vehicle identification number")


class Seizure(BaseModel):
    authority: str
    order_number: str


class Vehicle(BaseModel):
    plate: str
    vin: str
    kind: str = Field(description="car, motorcycle or heavy")
    make: str
    model: str
    year: int = Field(description="the Jalali model year")
    colour: str
    owner_national_code: str
    owner_name: str
    seized: bool
    seizure: Seizure | None = None


class VehicleRegistry(Connector):
    id: ClassVar[str] = "vehicle_registry"
    title: ClassVar[dict[str, str]] = {"fa": "سامانه خودرو پلیس راهور", "en": "Traffic Police vehicle registry"}
    agency: ClassVar[str] = "traffic_police"

    @operation(title={"fa": "پلیس راهور: مشخصات خودرو و مالک با شماره پلاک",
                      "en": "Traffic Police: a vehicle and its owner by plate"},
               fields=("owner_national_code", "owner_name", "seized"))
    def vehicle_by_plate(self, ctx: ConnectorContext, params: PlateQuery) -> Vehicle:
        response = request(ctx, "GET", f"{self.setting('base_url')}/vehicles", params={"plate": params.plate})
        return Vehicle.model_validate(response.json())

    @operation(title={"fa": "پلیس راهور: مشخصات خودرو و مالک با شماره شاسی (VIN)",
                      "en": "Traffic Police: a vehicle and its owner by VIN"},
               fields=("owner_national_code", "owner_name", "seized"))
    def vehicle_by_vin(self, ctx: ConnectorContext, params: VinQuery) -> Vehicle:
        response = request(ctx, "GET", f"{self.setting('base_url')}/vehicles", params={"vin": params.vin})
        return Vehicle.model_validate(response.json())
