"""The post's parcel delivery over SOAP: an order once per sender key, its status by the sandbox's clock,
and the judiciary's exit-ban inquiry the passport checks."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from lxml import etree

from connectors.simulators.app import create_sandbox_app
from tests.sandbox.conftest import Serve, quiet

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
POST = "urn:panjereh:sandbox:post"


def envelope(operation: str, **fields: str) -> bytes:
    inner = "".join(f"<post:{name}>{value}</post:{name}>" for name, value in fields.items())
    return (f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:post="{POST}"><soap:Body><post:{operation}>{inner}'
            f"</post:{operation}></soap:Body></soap:Envelope>").encode()


def call(http: httpx.Client, operation: str, **fields: str) -> httpx.Response:
    return http.post("/post/soap", content=envelope(operation, **fields),
                     headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{POST}#{operation}"'})


def parcel(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
    [found] = root.findall(f".//{{{POST}}}Parcel")
    return {etree.QName(child).localname: child.text or "" for child in found}


def fault_code(response: httpx.Response) -> str:
    assert response.status_code == 500, response.text
    root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
    return root.findtext(f".//{{{POST}}}ErrorCode") or ""


ORDER = {"OrderKey": "case-1:deliver", "RecipientName": "علی رضایی", "PostalCode": "1193653471",
         "Contents": "گذرنامه"}


@pytest.fixture
def sandbox(serve: Serve) -> Iterator[tuple[FastAPI, httpx.Client]]:
    app = create_sandbox_app(quiet())
    with httpx.Client(base_url=serve(app=app), timeout=10) as client:
        yield app, client


def test_an_order_is_booked_once_per_key_and_moves_with_the_clock(sandbox: tuple[FastAPI, httpx.Client]) -> None:
    app, http = sandbox
    now = [1000.0]
    app.state.sandbox.clock = lambda: now[0]
    first = parcel(call(http, "CreateParcelOrder", **ORDER))
    assert len(first["TrackingNumber"]) == 24 and first["TrackingNumber"].isdigit()
    assert (first["Status"], first["PostalCode"], first["OrderKey"]) == ("accepted", "1193653471", "case-1:deliver")
    assert parcel(call(http, "CreateParcelOrder", **ORDER))["TrackingNumber"] == first["TrackingNumber"]
    other = parcel(call(http, "CreateParcelOrder", **{**ORDER, "OrderKey": "case-2:deliver"}))
    assert other["TrackingNumber"] != first["TrackingNumber"]
    assert http.get("/_sandbox/status").json()["services"]["post"]["side_effects"] == 2
    statuses = []
    for later in (0, 3600, 86_400):
        now[0] = 1000.0 + later
        statuses.append(parcel(call(http, "GetParcelStatus", TrackingNumber=first["TrackingNumber"]))["Status"])
    assert statuses == ["accepted", "in_transit", "delivered"]


@pytest.mark.parametrize(("operation", "fields", "error"), [
    ("CreateParcelOrder", {**ORDER, "PostalCode": "1315700000"}, "not-found"),
    ("CreateParcelOrder", {**ORDER, "PostalCode": "0423437584"}, "invalid-postal-code"),
    ("CreateParcelOrder", {**ORDER, "OrderKey": "a b"}, "invalid-order"),
    ("CreateParcelOrder", {**ORDER, "Contents": "x" * 201}, "invalid-order"),
    ("CreateParcelOrder", {k: v for k, v in ORDER.items() if k != "RecipientName"}, "invalid-order"),
    ("GetParcelStatus", {"TrackingNumber": "0" * 24}, "unknown-parcel"),
    ("GetParcelStatus", {"TrackingNumber": "12"}, "unknown-parcel"),
])
def test_refused_orders_and_questions(shared: httpx.Client, operation: str, fields: dict[str, str],
                                      error: str) -> None:
    assert fault_code(call(shared, operation, **fields)) == error


def test_soap_action_must_name_the_operation_in_the_body(shared: httpx.Client) -> None:
    answer = shared.post("/post/soap", content=envelope("GetParcelStatus", TrackingNumber="0" * 24),
                         headers={"Content-Type": "text/xml", "SOAPAction": f'"{POST}#CreateParcelOrder"'})
    assert fault_code(answer) == "unknown-operation"


@pytest.mark.parametrize(("code", "banned", "authority"), [
    ("0013542419", False, None), ("0040010449", True, "financial-judgment"), ("0040010082", True, "prosecutor"),
    ("0040010155", False, None),
])
def test_exit_bans(shared: httpx.Client, code: str, banned: bool, authority: str | None) -> None:
    answer = shared.get(f"/judiciary/exit-bans/{code}")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["banned"], answer.json()["authority"]) == (banned, authority)
    assert (answer.json()["reference"] is not None) == banned


def test_exit_ban_of_unknown_people(shared: httpx.Client) -> None:
    assert shared.get("/judiciary/exit-bans/0061234567").json()["error"] == "not-found"
    assert shared.get("/judiciary/exit-bans/0013542410").json()["error"] == "invalid-national-code"
