"""The e-mail relay: news of their case to citizens who gave an address."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class Outgoing(BaseModel):
    to: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=10_000)


class Accepted(BaseModel):
    id: str


class MailRelay(Connector):
    id: ClassVar[str] = "mail"
    title: ClassVar[dict[str, str]] = {"fa": "سامانه رایانامه", "en": "E-mail relay"}
    agency: ClassVar[str] = "mail_relay"

    @operation(title={"fa": "رایانامه: فرستادن نامه", "en": "E-mail: send a message"})
    def send(self, ctx: ConnectorContext, params: Outgoing) -> Accepted:
        key = self.config.get("api_key") or ctx.secret("mail_api_key")
        response = request(ctx, "POST", f"{self.setting('base_url')}/messages", json=params.model_dump(),
                           headers={"Authorization": f"Bearer {key}"})
        return Accepted.model_validate(response.json())
