"""National post: address by postal code, over SOAP 1.1 (as the post's real service speaks)."""

from __future__ import annotations

from typing import ClassVar

import httpx
from lxml import etree
from pydantic import BaseModel, Field

from connectors.failures import from_http_error, from_response
from connectors.sdk import Connector, ConnectorContext, ConnectorError, operation

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
POST = "urn:panjereh:sandbox:post"
FIELDS = {"PostalCode": "postal_code", "Province": "province", "City": "city", "Street": "street",
          "Alley": "alley", "Plaque": "plaque", "Floor": "floor", "Unit": "unit"}


class AddressQuery(BaseModel):
    postal_code: str = Field(pattern=r"^[0-9]{10}$")


class Address(BaseModel):
    postal_code: str
    province: str
    city: str
    street: str
    alley: str
    plaque: int
    floor: int
    unit: int


def _envelope(postal_code: str) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "post": POST})
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    call = etree.SubElement(body, f"{{{POST}}}GetAddressByPostalCode")
    etree.SubElement(call, f"{{{POST}}}PostalCode").text = postal_code
    result: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return result


def _parse(content: bytes) -> etree._Element:
    # The answer is another agency's XML: no entities, no DTD, no network, as for uploads.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as error:
        raise ConnectorError("bad-result", f"the post answered with XML that does not parse: {error.msg}",
                             retryable=True) from error
    if root.getroottree().docinfo.doctype:
        raise ConnectorError("bad-result", "the post answered with a DOCTYPE, which is refused", retryable=True)
    return root


def _fault(response: httpx.Response) -> ConnectorError:
    """A SOAP fault names what went wrong; anything else (a gateway's 503, 429) is HTTP's to say."""
    if "xml" not in response.headers.get("content-type", ""):
        return from_response(response)
    root = _parse(response.content)
    code = root.findtext(f".//{{{POST}}}ErrorCode") or ""
    if code == "not-found":
        return ConnectorError("not-found", "the post has no address for this postal code")
    if code in ("invalid-postal-code", "malformed-request", "unknown-operation"):
        return ConnectorError("bad-params", f"the post refused the request: {code}")
    return ConnectorError("agency-unavailable", f"the post answered with a SOAP fault {code or '(no code)'}",
                          retryable=True)


class NationalPost(Connector):
    id: ClassVar[str] = "post"
    title: ClassVar[dict[str, str]] = {"fa": "شرکت ملی پست", "en": "National post"}
    agency: ClassVar[str] = "national_post"

    @operation(title={"fa": "پست: نشانی با کد پستی", "en": "Post: address by postal code"},
               fields=("province", "city", "street", "alley", "plaque", "floor", "unit"))
    def address_by_postal_code(self, ctx: ConnectorContext, params: AddressQuery) -> Address:
        try:
            response = ctx.http.post(f"{self.setting('base_url')}/soap", content=_envelope(params.postal_code),
                                     headers={"Content-Type": "text/xml; charset=utf-8",
                                              "SOAPAction": f'"{POST}#GetAddressByPostalCode"'})
        except httpx.HTTPError as error:
            raise from_http_error(error) from error
        if response.status_code >= 400:
            raise _fault(response)
        found = _parse(response.content).find(f".//{{{POST}}}Address")
        if found is None:
            raise ConnectorError("bad-result", "the post's answer has no Address", retryable=True)
        return Address.model_validate({FIELDS[etree.QName(child).localname]: child.text
                                       for child in found if etree.QName(child).localname in FIELDS})
