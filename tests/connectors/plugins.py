"""Connector classes the registry tests load through hand-made entry points, good and broken."""

# Titles are class-level constants here, as the SDK declares them (ClassVar on Connector).
# ruff: noqa: RUF012

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.sdk import Connector, ConnectorContext, ConnectorError, operation


class PersonQuery(BaseModel):
    national_code: str = Field(pattern=r"^\d{10}$", description="ten digits",
                               json_schema_extra={"x-title": {"fa": "کد ملی", "en": "National code"}})
    include_address: bool = False
    channel: Literal["web", "counter"] = "web"
    year: int | None = Field(None, ge=1300, le=1500)


class Person(BaseModel):
    first_name: str
    last_name: str
    born: dt.date
    alive: bool


class CivilRegistry(Connector):
    id = "civil_registry"
    title = {"fa": "ثبت احوال", "en": "Civil registry"}
    agency = "civil_registration"

    @operation(title={"fa": "استعلام فرد", "en": "Person by national code"},
               description={"en": "Name and birth date of a person"}, fields=["first_name", "last_name", "born"])
    def person(self, ctx: ConnectorContext, params: PersonQuery) -> Person:
        response = ctx.http.get(f"{self.setting('base_url')}/persons/{params.national_code}")
        if response.status_code == 404:
            raise ConnectorError("not-found", "no person with that national code")
        response.raise_for_status()
        return Person.model_validate(response.json())

    def helper(self) -> str:  # not an operation: never listed
        return "plain method"


class PostQuery(BaseModel):
    postal_code: str = Field(pattern=r"^\d{10}$")


class Address(BaseModel):
    line: str


class Post(Connector):
    id = "post"
    title = {"fa": "پست", "en": "Post"}
    agency = "post_company"
    requires = ()  # answers from its own table: no agency to reach

    @operation(title={"fa": "نشانی از کد پستی", "en": "Address by postal code"})
    def address(self, ctx: ConnectorContext, params: PostQuery) -> Address:
        return Address(line=f"{params.postal_code} Example street")


class FromTheFuture(Post):
    id = "from_the_future"
    api_version = 2


class Misnamed(Post):
    id = "something_else"


class NoFarsiTitle(Post):
    id = "no_farsi_title"
    title = {"en": "English only"}


class UntypedOperation(Connector):
    id = "untyped"
    title = {"fa": "بی‌نوع", "en": "Untyped"}
    agency = "nowhere"

    @operation(title={"fa": "الف", "en": "A"})
    def lookup(self, ctx, params):  # type: ignore[no-untyped-def]
        return {}


class DictResult(Connector):
    id = "dict_result"
    title = {"fa": "دیکشنری", "en": "Dict result"}
    agency = "nowhere"

    @operation(title={"fa": "الف", "en": "A"})
    def lookup(self, ctx: ConnectorContext, params: PostQuery) -> dict:  # type: ignore[type-arg]
        return {}


class ExtraArgument(Connector):
    id = "extra_argument"
    title = {"fa": "اضافه", "en": "Extra"}
    agency = "nowhere"

    @operation(title={"fa": "الف", "en": "A"})
    def lookup(self, ctx: ConnectorContext, params: PostQuery, more: int) -> Address:
        return Address(line="")


class WrongPersonalField(Post):
    id = "wrong_personal_field"

    @operation(title={"fa": "الف", "en": "A"}, fields=["phone"])
    def address(self, ctx: ConnectorContext, params: PostQuery) -> Address:
        return Address(line="")


class NoOperations(Connector):
    id = "no_operations"
    title = {"fa": "هیچ", "en": "Nothing"}
    agency = "nowhere"


class FailsToStart(Post):
    id = "fails_to_start"

    def __init__(self, config: object) -> None:
        raise RuntimeError("no base_url")


class NotAConnector:
    id = "not_a_connector"


class Misbehaving(Connector):
    """Operations that break their promises, for the call-path tests."""

    id = "misbehaving"
    title = {"fa": "بدرفتار", "en": "Misbehaving"}
    agency = "nowhere"
    requires = ()

    @operation(title={"fa": "الف", "en": "Wrong result"})
    def wrong_result(self, ctx: ConnectorContext, params: PostQuery) -> Person:
        return Person.model_construct(first_name="Sara")  # skips validation: missing fields

    @operation(title={"fa": "ب", "en": "Dict result"})
    def dict_answer(self, ctx: ConnectorContext, params: PostQuery) -> Address:
        return {"line": "from a dict"}  # type: ignore[return-value]

    @operation(title={"fa": "پ", "en": "Bug"})
    def bug(self, ctx: ConnectorContext, params: PostQuery) -> Address:
        raise KeyError("city")

    @operation(title={"fa": "ت", "en": "Needs a secret"})
    def needs_secret(self, ctx: ConnectorContext, params: PostQuery) -> Address:
        return Address(line=ctx.secret("misbehaving_api_key")[:2])


class Opaque:
    """A type pydantic can hold but no JSON Schema can describe."""


class OpaqueParams(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    thing: Opaque


class NoSchema(Post):
    id = "no_schema"

    @operation(title={"fa": "الف", "en": "A"})
    def address(self, ctx: ConnectorContext, params: OpaqueParams) -> Address:  # type: ignore[override]
        return Address(line="")


class AsyncOperation(Post):
    id = "async_operation"

    @operation(title={"fa": "الف", "en": "A"})
    async def address(self, ctx: ConnectorContext, params: PostQuery) -> Address:  # type: ignore[override]
        return Address(line="")


class TaxOffice(Connector):
    """Reads a secret by a name of its own choosing; whether it gets it is the engine's rule."""

    id = "tax"
    title = {"fa": "مالیات", "en": "Tax"}
    agency = "tax_organization"
    requires = ()
    secret_name = "api_key"

    @operation(title={"fa": "کلید", "en": "Key"})
    def key(self, ctx: ConnectorContext, params: PostQuery) -> Address:
        return Address(line=ctx.secret(self.secret_name))


class Document(BaseModel):
    content: Any


class Archive(Connector):
    """Hands back whatever document the archive holds: deep or large answers pass its model."""

    id = "archive"
    title = {"fa": "بایگانی", "en": "Archive"}
    agency = "national_archive"

    @operation(title={"fa": "سند", "en": "Document"})
    def document(self, ctx: ConnectorContext, params: PostQuery) -> Document:
        response = ctx.http.get(f"{self.setting('base_url')}/documents/{params.postal_code}")
        response.raise_for_status()
        return Document.model_validate(response.json())
