"""The SMS gateway: text messages to citizens (sign-in codes, news of their case)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class Outgoing(BaseModel):
    to: str = Field(pattern=r"^09[0-9]{9}$")
    text: str = Field(min_length=1, max_length=670)


class Accepted(BaseModel):
    id: str


class SmsGateway(Connector):
    id: ClassVar[str] = "sms"
    title: ClassVar[dict[str, str]] = {"fa": "سامانه پیامک", "en": "SMS gateway"}
    agency: ClassVar[str] = "sms_gateway"

    @operation(title={"fa": "پیامک: فرستادن پیام کوتاه", "en": "SMS: send a text message"})
    def send(self, ctx: ConnectorContext, params: Outgoing) -> Accepted:
        key = self.config.get("api_key") or ctx.secret("sms_api_key")
        response = request(ctx, "POST", f"{self.setting('base_url')}/messages", json=params.model_dump(),
                           headers={"Authorization": f"Bearer {key}"})
        return Accepted.model_validate(response.json())
