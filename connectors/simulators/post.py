"""National post (شرکت ملی پست): address by postal code, over SOAP 1.1 as many government systems speak.

``POST /soap`` with ``Content-Type: text/xml; charset=utf-8`` and ``SOAPAction:
"urn:panjereh:sandbox:post#GetAddressByPostalCode"`` (the header may be absent; any other action is a
fault). The body must be UTF-8 and carry no DOCTYPE. Request::

    <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
                   xmlns:post="urn:panjereh:sandbox:post">
      <soap:Body>
        <post:GetAddressByPostalCode>
          <post:PostalCode>1193653471</post:PostalCode>
        </post:GetAddressByPostalCode>
      </soap:Body>
    </soap:Envelope>

Response, HTTP 200, ``text/xml; charset=utf-8`` (indented here; the wire has no whitespace between tags)::

    <?xml version='1.0' encoding='utf-8'?>
    <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
                   xmlns:post="urn:panjereh:sandbox:post">
      <soap:Body>
        <post:GetAddressByPostalCodeResponse>
          <post:Address>
            <post:PostalCode>1193653471</post:PostalCode>
            <post:Province>تهران</post:Province>
            <post:City>تهران</post:City>
            <post:Street>خیابان انقلاب</post:Street>
            <post:Alley>کوچه لاله</post:Alley>
            <post:Plaque>12</post:Plaque>
            <post:Floor>3</post:Floor>
            <post:Unit>7</post:Unit>
          </post:Address>
        </post:GetAddressByPostalCodeResponse>
      </soap:Body>
    </soap:Envelope>

Plaque, Floor and Unit are decimal numbers (Floor 0 is the ground floor). Errors are SOAP 1.1 faults,
HTTP 500 as the standard says, always ``soap:Client`` (the caller's mistake; do not retry)::

    <?xml version='1.0' encoding='utf-8'?>
    <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
                   xmlns:post="urn:panjereh:sandbox:post">
      <soap:Body>
        <soap:Fault>
          <faultcode>soap:Client</faultcode>
          <faultstring>no address with this postal code</faultstring>
          <detail><post:ErrorCode>not-found</post:ErrorCode></detail>
        </soap:Fault>
      </soap:Body>
    </soap:Envelope>

ErrorCode is one of ``malformed-request`` (not XML, not UTF-8, a DOCTYPE, not a SOAP envelope),
``unknown-operation``, ``invalid-postal-code`` (fails `forms.identifiers.check_postal_code`) or
``not-found`` (valid shape, no such building: the sandbox treats distribution code ``00000``, the last
five digits, as unassigned, e.g. ``1315700000``). Every other valid code has a generated address
whose province follows the first digit (1 Tehran, 8 Isfahan/Yazd, 9 Khorasan...).

Parcel delivery (`connectors.simulators.post_parcels`), the same envelope and faults. ``CreateParcelOrder``
(SOAPAction ``urn:panjereh:sandbox:post#CreateParcelOrder``) with ``OrderKey`` (the sender's key for this
delivery, 1 to 64 of ``A-Za-z0-9_.:-``; the same key again answers the same parcel and books nothing new),
``RecipientName``, ``PostalCode`` (an address the post knows) and ``Contents`` (up to 200 characters)
answers ``CreateParcelOrderResponse/Parcel`` with ``TrackingNumber`` (24 digits, as Iran Post's), ``OrderKey``,
``PostalCode``, ``Status`` and ``AcceptedAt``. ``GetParcelStatus`` with ``TrackingNumber`` answers
``GetParcelStatusResponse/Parcel`` the same way. Status: ``accepted``, ``in_transit`` from an hour after
acceptance, ``delivered`` from a day after (by the sandbox's clock). More ErrorCodes: ``invalid-order``
(a field missing or out of bounds) and ``unknown-parcel``.

The gate in front (`behaviour`) answers outages, rate limits and simulated failures in JSON, as a
gateway or security server in front of a SOAP service would; tell them from faults by Content-Type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass

from fastapi import FastAPI, Request, Response
from lxml import etree

from connectors.simulators.agency import new_agency_app
from connectors.simulators.behaviour import ServiceState
from connectors.simulators.data import ALLEYS, REGIONS, STREETS, Draw
from connectors.simulators.post_parcels import Parcel, ParcelBook, ParcelError
from forms.identifiers import check_postal_code

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
POST_NS = "urn:panjereh:sandbox:post"
OPERATION = "GetAddressByPostalCode"
SOAP_ACTION = f"{POST_NS}#{OPERATION}"
OPERATIONS = (OPERATION, "CreateParcelOrder", "GetParcelStatus")
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
_NSMAP = {"soap": SOAP_NS, "post": POST_NS}


@dataclass(frozen=True)
class Address:
    postal_code: str
    province: str
    city: str
    street: str
    alley: str
    plaque: int
    floor: int
    unit: int


_FIELDS = ("PostalCode", "Province", "City", "Street", "Alley", "Plaque", "Floor", "Unit")
DEMO_ADDRESSES = {
    address.postal_code: address
    for address in (
        Address("1193653471", "تهران", "تهران", "خیابان انقلاب", "کوچه لاله", 12, 3, 7),
        Address("8175913465", "اصفهان", "اصفهان", "خیابان حافظ", "کوچه نسترن", 45, 1, 2),
    )
}


class Fault(Exception):
    """A SOAP fault the caller caused."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def find_address(postal_code: str) -> Address | None:
    """The address of a valid postal code, or None when no building has it."""
    if check_postal_code(postal_code) is not None or postal_code.endswith("00000"):
        return None
    if postal_code in DEMO_ADDRESSES:
        return DEMO_ADDRESSES[postal_code]
    draw = Draw("post", postal_code)
    province, city = draw.pick(REGIONS[postal_code[0]])
    return Address(postal_code, province, city, draw.pick(STREETS), draw.pick(ALLEYS), draw.between(1, 250),
                   draw.between(0, 12), draw.between(1, 40))


def parse_request(body: bytes) -> etree._Element:
    """The envelope's root, parsed so that nothing outside the bytes can be reached.

    The DOCTYPE check runs on the decoded text before libxml2 sees it, and the parser is forced to
    UTF-8, so a declaration in another encoding (UTF-16 hides ``<!DOCTYPE`` from a byte search)
    cannot smuggle one past. The parser settings are the second wall: no entities, DTD or network.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Fault("malformed-request", "the request is not UTF-8") from None
    if "<!doctype" in text.lower() or "<!entity" in text.lower() or "\x00" in text:
        raise Fault("malformed-request", "DOCTYPE and entity declarations are not accepted")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             encoding="utf-8")
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        raise Fault("malformed-request", "the request is not well-formed XML") from None
    if root.getroottree().docinfo.doctype:
        raise Fault("malformed-request", "DOCTYPE and entity declarations are not accepted")
    return root


def operation_of(root: etree._Element) -> etree._Element:
    """The one operation element the envelope's Body carries."""
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise Fault("malformed-request", "the root element is not a SOAP 1.1 Envelope")
    body = root.find(f"{{{SOAP_NS}}}Body")
    operations = [] if body is None else [child for child in body if isinstance(child.tag, str)]
    if len(operations) != 1:
        raise Fault("malformed-request", "the SOAP Body must hold exactly one operation")
    if operations[0].tag not in {f"{{{POST_NS}}}{name}" for name in OPERATIONS}:
        raise Fault("unknown-operation", f"this service offers only {', '.join(OPERATIONS)} in {POST_NS}")
    return operations[0]


def _text(operation: etree._Element, name: str) -> str:
    found = operation.find(f"{{{POST_NS}}}{name}")
    return "" if found is None else (found.text or "").strip()


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap=_NSMAP)
    return envelope, etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")


def _xml(envelope: etree._Element, status: int) -> Response:
    content = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return Response(content, status_code=status, media_type=XML_CONTENT_TYPE)


def address_response(address: Address) -> Response:
    envelope, body = _envelope()
    answer = etree.SubElement(body, f"{{{POST_NS}}}{OPERATION}Response")
    element = etree.SubElement(answer, f"{{{POST_NS}}}Address")
    for name, value in zip(_FIELDS, astuple(address), strict=True):
        etree.SubElement(element, f"{{{POST_NS}}}{name}").text = str(value)
    return _xml(envelope, 200)


def parcel_response(operation: str, parcel: Parcel) -> Response:
    envelope, body = _envelope()
    answer = etree.SubElement(body, f"{{{POST_NS}}}{operation}Response")
    element = etree.SubElement(answer, f"{{{POST_NS}}}Parcel")
    for name, value in parcel.fields():
        etree.SubElement(element, f"{{{POST_NS}}}{name}").text = value
    return _xml(envelope, 200)


def fault_response(fault: Fault) -> Response:
    envelope, body = _envelope()
    element = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    # SOAP 1.1 faultcode/faultstring/detail are unqualified by the standard.
    etree.SubElement(element, "faultcode").text = "soap:Client"
    etree.SubElement(element, "faultstring").text = fault.message
    detail = etree.SubElement(element, "detail")
    etree.SubElement(detail, f"{{{POST_NS}}}ErrorCode").text = fault.code
    return _xml(envelope, 500)


def _address(postal_code: str) -> Address:
    if check_postal_code(postal_code) is not None:
        raise Fault("invalid-postal-code", "not a valid postal code")
    address = find_address(postal_code)
    if address is None:
        raise Fault("not-found", "no address with this postal code")
    return address


def _answer(parcels: ParcelBook, operation: etree._Element) -> Response:
    name = etree.QName(operation).localname
    if name == OPERATION:
        code = operation.find(f"{{{POST_NS}}}PostalCode")
        if code is None:
            raise Fault("invalid-postal-code", "PostalCode is missing")
        return address_response(_address((code.text or "").strip()))
    try:
        if name == "CreateParcelOrder":
            postal_code = _text(operation, "PostalCode")
            _address(postal_code)
            parcel = parcels.order(_text(operation, "OrderKey"), _text(operation, "RecipientName"), postal_code,
                                   _text(operation, "Contents"))
        else:
            parcel = parcels.find(_text(operation, "TrackingNumber"))
    except ParcelError as error:
        raise Fault(error.code, str(error)) from None
    return parcel_response(name, parcel)


def build(state: ServiceState, clock: Callable[[], float]) -> FastAPI:
    app = new_agency_app("National post: addresses and parcel delivery (sandbox)", __doc__ or "")
    parcels = ParcelBook(state, clock)

    @app.post("/soap", response_class=Response)
    async def soap(request: Request) -> Response:
        """SOAP 1.1 endpoint: GetAddressByPostalCode, CreateParcelOrder, GetParcelStatus."""
        try:
            action = request.headers.get("soapaction", "").strip('"')
            operation = operation_of(parse_request(await request.body()))
            if action not in ("", f"{POST_NS}#{etree.QName(operation).localname}"):
                raise Fault("unknown-operation", "SOAPAction must name the operation in the Body")
            return _answer(parcels, operation)
        except Fault as fault:
            return fault_response(fault)

    return app
