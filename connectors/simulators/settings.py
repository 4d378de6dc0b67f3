"""How the simulated agencies behave: latency, faults, rate limits, outages.

Every knob is read from ``PANJEREH_SANDBOX_*`` environment variables, or passed in code. The
behaviour fields set at the top level apply to every agency; ``services`` overrides them for one:

    PANJEREH_SANDBOX_LATENCY_MS=0
    PANJEREH_SANDBOX_SERVICES__SMS__FAIL_EVERY=3     # only the SMS gateway fails every third call
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Service id (settings, admin API, log) -> URL prefix under the sandbox app.
SERVICES: dict[str, str] = {
    "civil_registry": "/civil-registry",
    "mobile_registry": "/mobile-registry",
    "post": "/post",
    "tax": "/tax",
    "business_registry": "/business-registry",
    "sms": "/sms",
    "mail": "/mail",
    "judiciary": "/judiciary",
    "conscription": "/conscription",
    "payment": "/payment",
    "passport_office": "/passport-office",
    "health_ministry": "/health-ministry",
    "land_registry": "/land-registry",
    "zoning": "/zoning",
    "engineering_org": "/engineering-org",
    "fire_department": "/fire-department",
    "vehicle_registry": "/vehicle-registry",
    "traffic_fines": "/traffic-fines",
    "vehicle_tax": "/vehicle-tax",
    "insurer": "/insurer",
    "notary": "/notary",
}

Milliseconds = Annotated[float, Field(ge=0, le=60_000)]


def simulated_address(sandbox_url: str, connector_id: str) -> str | None:
    """Where the sandbox served at `sandbox_url` answers for connector `connector_id`, or None
    when it simulates no such agency (a third party's connector has no stand-in)."""
    return simulated_config(sandbox_url).get(connector_id, {}).get("base_url")


def simulated_config(sandbox_url: str) -> dict[str, dict[str, str]]:
    """Connector settings pointing every simulated agency at the sandbox served at `sandbox_url`."""
    return {service: {"base_url": f"{sandbox_url.rstrip('/')}{prefix}"} for service, prefix in SERVICES.items()}


class Behaviour(BaseModel):
    """What one agency does to a request besides answering it."""

    latency_ms: Milliseconds = Field(20, description="fixed delay before every answer")
    jitter_ms: Milliseconds = Field(40, description="extra delay drawn uniformly from [0, jitter_ms]")
    error_rate: float = Field(0.0, ge=0, le=1, description="probability that a request fails with fail_status")
    fail_every: int = Field(0, ge=0, description="every Nth request fails with fail_status; 0 = never")
    fail_status: int = Field(500, ge=500, le=599)
    fail_after_side_effect: bool = Field(
        False, description="fail AFTER the agency acted (the answer is lost, the side effect is not)")
    rate_limit: int = Field(0, ge=0, description="requests per client per window; 0 = unlimited")
    rate_window_s: float = Field(1.0, gt=0, le=3600)
    down: bool = Field(False, description="start in an outage (503) until switched on by the admin API")


class SandboxSettings(BaseSettings, Behaviour):
    """The sandbox as a whole: default behaviour, per-agency overrides, secrets and memory bounds."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_SANDBOX_", env_nested_delimiter="__", extra="ignore")

    services: dict[str, Behaviour] = Field(default_factory=dict)
    sms_api_key: SecretStr = SecretStr("sandbox-sms-key")
    mail_api_key: SecretStr = SecretStr("sandbox-mail-key")
    payment_api_key: SecretStr = SecretStr("sandbox-payment-key")
    # None leaves /_sandbox open, which is what a laptop demo wants; a shared demo server sets a key.
    admin_key: SecretStr | None = None
    seed: int = Field(0, description="seeds jitter and error_rate so a run can be repeated")
    log_size: int = Field(1000, ge=1)
    sms_outbox_size: int = Field(500, ge=1)
    idempotency_size: int = Field(1000, ge=1)
    max_body_bytes: int = Field(64 * 1024, ge=1024)

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: dict[str, Behaviour]) -> dict[str, Behaviour]:
        unknown = sorted(set(value) - set(SERVICES))
        if unknown:
            raise ValueError(f"unknown sandbox services {unknown}; known: {sorted(SERVICES)}")
        return value

    def behaviour_of(self, service: str) -> Behaviour:
        """The top-level behaviour with this agency's overrides (only the fields it set) on top."""
        merged = {name: getattr(self, name) for name in Behaviour.model_fields}
        override = self.services.get(service)
        if override is not None:
            merged |= override.model_dump(include=override.model_fields_set)
        return Behaviour.model_validate(merged)
