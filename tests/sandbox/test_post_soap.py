"""The national post over SOAP 1.1: addresses, faults, and hostile XML refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree

from connectors.simulators.post import Fault, parse_request
from tests.sandbox.conftest import Serve, quiet

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
POST = "urn:panjereh:sandbox:post"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{POST}#GetAddressByPostalCode"'}
ENVELOPE = (f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:post="{POST}"><soap:Body>'
            "<post:GetAddressByPostalCode><post:PostalCode>{code}</post:PostalCode></post:GetAddressByPostalCode>"
            "</soap:Body></soap:Envelope>")
FIELDS = ("PostalCode", "Province", "City", "Street", "Alley", "Plaque", "Floor", "Unit")


def ask(http: httpx.Client, body: str | bytes, headers: dict[str, str] = HEADERS) -> httpx.Response:
    return http.post("/post/soap", content=body.encode() if isinstance(body, str) else body, headers=headers)


def address(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
    [found] = root.findall(f"{{{SOAP}}}Body/{{{POST}}}GetAddressByPostalCodeResponse/{{{POST}}}Address")
    return {etree.QName(child).localname: child.text or "" for child in found}


def fault_code(response: httpx.Response) -> str:
    assert response.status_code == 500, response.text
    root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
    [fault] = root.findall(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client" and fault.findtext("faultstring")
    return fault.findtext(f"detail/{{{POST}}}ErrorCode") or ""


def test_demo_address(shared: httpx.Client) -> None:
    assert address(ask(shared, ENVELOPE.format(code="1193653471"))) == {
        "PostalCode": "1193653471", "Province": "تهران", "City": "تهران", "Street": "خیابان انقلاب",
        "Alley": "کوچه لاله", "Plaque": "12", "Floor": "3", "Unit": "7"}


@pytest.mark.parametrize(("code", "province"), [("1315793785", "تهران"), ("8175913465", "اصفهان"),
                                                ("1395512345", "تهران"), ("5315793785", None)])
def test_generated_addresses_are_complete_and_stable(serve: Serve, code: str, province: str | None) -> None:
    with httpx.Client(base_url=serve()) as one, httpx.Client(base_url=serve()) as two:
        first = address(ask(one, ENVELOPE.format(code=code)))
        assert first == address(ask(two, ENVELOPE.format(code=code)))
    assert tuple(first) == FIELDS and all(first.values()) and first["PostalCode"] == code
    assert province is None or first["Province"] == province
    assert all(first[n].isascii() and first[n].isdigit() for n in ("Plaque", "Floor", "Unit"))


def test_soap_action_header_may_be_absent(shared: httpx.Client) -> None:
    assert address(ask(shared, ENVELOPE.format(code="1193653471"), {"Content-Type": "text/xml"}))["City"] == "تهران"


@pytest.mark.parametrize(("code", "error"), [
    ("0423437584", "invalid-postal-code"), ("1203456789", "invalid-postal-code"),
    ("1111111111", "invalid-postal-code"), ("142386473", "invalid-postal-code"),
    ("۱۱۹۳۶۵۳۴۷۱", "invalid-postal-code"), ("1315700000", "not-found"),
])
def test_faults_for_invalid_and_unknown_codes(shared: httpx.Client, code: str, error: str) -> None:
    assert fault_code(ask(shared, ENVELOPE.format(code=code))) == error


@pytest.mark.parametrize(("body", "error"), [
    ("not xml", "malformed-request"),
    ("<Envelope/>", "malformed-request"),
    (f'<s:Envelope xmlns:s="{SOAP}"><s:Body/></s:Envelope>', "malformed-request"),
    (ENVELOPE.format(code="1193653471").replace("GetAddressByPostalCode", "DeleteAddress"), "unknown-operation"),
    (ENVELOPE.format(code="1193653471").replace(f'xmlns:post="{POST}"', 'xmlns:post="urn:other"'),
     "unknown-operation"),
    (ENVELOPE.format(code="1193653471").replace("post:PostalCode>", "post:Code>"), "invalid-postal-code"),
    ("\u00e9".encode("latin-1"), "malformed-request"),
])
def test_faults_for_malformed_requests(shared: httpx.Client, body: str | bytes, error: str) -> None:
    assert fault_code(ask(shared, body)) == error


def test_wrong_soap_action_is_a_fault(shared: httpx.Client) -> None:
    headers = {**HEADERS, "SOAPAction": f'"{POST}#DeleteAddress"'}
    assert fault_code(ask(shared, ENVELOPE.format(code="1193653471"), headers)) == "unknown-operation"


def test_external_entity_is_refused_without_reading_the_file(shared: httpx.Client, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    hostile = (f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file://{secret}">]>'
               + ENVELOPE.format(code="&xxe;"))
    response = ask(shared, hostile)
    assert fault_code(response) == "malformed-request"
    assert "TOP-SECRET" not in response.text


def test_doctype_hidden_in_utf16_is_refused(shared: httpx.Client, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    hostile = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file://{secret}">]>'
               + ENVELOPE.format(code="&xxe;"))
    response = ask(shared, hostile.encode("utf-16"))
    assert fault_code(response) == "malformed-request"
    assert "TOP-SECRET" not in response.text


def test_entity_expansion_bomb_is_refused(shared: httpx.Client) -> None:
    bomb = ('<!DOCTYPE b [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>' + ENVELOPE.format(code="&c;"))
    assert fault_code(ask(shared, bomb)) == "malformed-request"


def test_the_parser_itself_never_resolves_entities(tmp_path: Path) -> None:
    """Second wall: even if the DOCTYPE screen were bypassed, libxml2 is told not to load anything."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(f'<!DOCTYPE e [<!ENTITY x SYSTEM "file://{secret}">]><e>&x;</e>'.encode(), parser)
    assert "TOP-SECRET" not in etree.tostring(root).decode()
    with pytest.raises(Fault):
        parse_request(f'<!DOCTYPE e [<!ENTITY x SYSTEM "file://{secret}">]><e>&x;</e>'.encode())


def test_oversized_request_is_refused_before_parsing(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(max_body_bytes=2048))) as http:
        padding = "<!-- " + "x" * 4096 + " -->"
        response = ask(http, padding + ENVELOPE.format(code="1193653471"))
        assert response.status_code == 413 and response.json()["error"] == "too-large"
