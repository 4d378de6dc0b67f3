"""National post, over SOAP 1.1 (as the post's real service speaks): address by postal code, and parcel
delivery (an order keyed by the sender, so a retried call books nothing new, and its status)."""

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


PARCEL_FIELDS = {"TrackingNumber": "tracking_number", "OrderKey": "order_key", "PostalCode": "postal_code",
                 "Status": "status", "AcceptedAt": "accepted_at"}


class ParcelOrder(BaseModel):
    postal_code: str = Field(pattern=r"^[0-9]{10}$", description="where to deliver: an address the post knows")
    recipient_name: str = Field(min_length=1, max_length=200)
    contents: str = Field(min_length=1, max_length=200, description="what the parcel holds, for the postman")
    order_key: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                  description="the sender's key for this delivery; the call's idempotency key "
                                              "when not given")


class ParcelQuery(BaseModel):
    tracking_number: str = Field(pattern=r"^[0-9]{24}$")


class Parcel(BaseModel):
    tracking_number: str
    order_key: str
    postal_code: str
    status: str = Field(description="accepted, in_transit or delivered")
    accepted_at: str


def _envelope(operation: str, fields: dict[str, str]) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "post": POST})
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    call = etree.SubElement(body, f"{{{POST}}}{operation}")
    for name, value in fields.items():
        etree.SubElement(call, f"{{{POST}}}{name}").text = value
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
    if code == "unknown-parcel":
        return ConnectorError("not-found", "the post has no parcel with this tracking number")
    if code in ("invalid-postal-code", "malformed-request", "unknown-operation", "invalid-order"):
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
        found = self._call(ctx, "GetAddressByPostalCode", {"PostalCode": params.postal_code}, "Address")
        return Address.model_validate({FIELDS[etree.QName(child).localname]: child.text
                                       for child in found if etree.QName(child).localname in FIELDS})

    @operation(title={"fa": "پست: سفارش ارسال مرسوله", "en": "Post: order a parcel delivery"},
               fields=("postal_code",))
    def parcel_order(self, ctx: ConnectorContext, params: ParcelOrder) -> Parcel:
        found = self._call(ctx, "CreateParcelOrder", {
            "OrderKey": params.order_key or ctx.idempotency_key[:64], "RecipientName": params.recipient_name,
            "PostalCode": params.postal_code, "Contents": params.contents}, "Parcel")
        return _parcel(found)

    @operation(title={"fa": "پست: وضعیت مرسوله", "en": "Post: parcel status"})
    def parcel_status(self, ctx: ConnectorContext, params: ParcelQuery) -> Parcel:
        return _parcel(self._call(ctx, "GetParcelStatus", {"TrackingNumber": params.tracking_number}, "Parcel"))

    def _call(self, ctx: ConnectorContext, operation_name: str, fields: dict[str, str], answer: str) -> etree._Element:
        try:
            response = ctx.http.post(f"{self.setting('base_url')}/soap", content=_envelope(operation_name, fields),
                                     headers={"Content-Type": "text/xml; charset=utf-8",
                                              "SOAPAction": f'"{POST}#{operation_name}"'})
        except httpx.HTTPError as error:
            raise from_http_error(error) from error
        if response.status_code >= 400:
            raise _fault(response)
        found = _parse(response.content).find(f".//{{{POST}}}{answer}")
        if found is None:
            raise ConnectorError("bad-result", f"the post's answer has no {answer}", retryable=True)
        return found


def _parcel(found: etree._Element) -> Parcel:
    return Parcel.model_validate({PARCEL_FIELDS[etree.QName(child).localname]: child.text
                                  for child in found if etree.QName(child).localname in PARCEL_FIELDS})
