"""The judiciary: the criminal-record inquiry (استعلام سوء پیشینه), the certificate fetched not carried, and
the exit-ban inquiry (استعلام ممنوع‌الخروجی) a passport needs."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from connectors.agencies.http import request
from connectors.sdk import Connector, ConnectorContext, operation


class RecordQuery(BaseModel):
    national_code: str = Field(pattern=r"^[0-9]{10}$", description="10-digit national code")


class CriminalRecord(BaseModel):
    national_code: str
    has_record: bool
    category: str = Field(description="none, financial or violent")
    certificate_number: str = Field(description="the number of the no-criminal-record certificate this answer is")
    disqualifies: bool = Field(description="an effective record (سوء پیشینه مؤثر) that bars a trade licence")


class ExitBan(BaseModel):
    national_code: str
    banned: bool
    authority: str | None = Field(description="financial-judgment (a court, for a judgment debt) or prosecutor")
    reference: str | None = Field(description="the ban's reference number, when there is one")


class Judiciary(Connector):
    id: ClassVar[str] = "judiciary"
    title: ClassVar[dict[str, str]] = {"fa": "قوه قضاییه", "en": "Judiciary"}
    agency: ClassVar[str] = "judiciary"

    @operation(title={"fa": "قوه قضاییه: استعلام سوء پیشینه با کد ملی",
                      "en": "Judiciary: criminal-record inquiry by national code"},
               fields=("has_record", "category", "certificate_number", "disqualifies"))
    def criminal_record(self, ctx: ConnectorContext, params: RecordQuery) -> CriminalRecord:
        response = request(ctx, "GET", f"{self.setting('base_url')}/criminal-records/{params.national_code}")
        return CriminalRecord.model_validate(response.json())

    @operation(title={"fa": "قوه قضاییه: استعلام ممنوع‌الخروجی با کد ملی",
                      "en": "Judiciary: exit-ban inquiry by national code"},
               fields=("banned", "authority", "reference"))
    def exit_ban(self, ctx: ConnectorContext, params: RecordQuery) -> ExitBan:
        response = request(ctx, "GET", f"{self.setting('base_url')}/exit-bans/{params.national_code}")
        return ExitBan.model_validate(response.json())
