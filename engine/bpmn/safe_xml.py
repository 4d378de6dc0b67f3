"""Loading untrusted XML (BPMN, DMN) without letting it reach the file system or network.

Every upload is hostile until proven otherwise: the parser resolves no entities, loads no
DTD, never touches the network, and the document is refused before parsing when it is too
big, and after parsing when it nests too deep. A DOCTYPE is refused outright: BPMN and DMN
never need one, and it is the carrier of XXE and entity-expansion attacks.
"""

from __future__ import annotations

from lxml import etree


class UnsafeXmlError(ValueError):
    """The document was refused; the message says why, in words an analyst understands."""


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def _depth(root: etree._Element, limit: int) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            return level
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node)
    return deepest


def load_xml(data: bytes, *, name: str, max_bytes: int, max_depth: int) -> etree._Element:
    """Parse `data` as XML under the safety rules above.

    Args:
        data: the raw upload.
        name: the file name, used in messages.
        max_bytes: size cap; larger documents are refused unread.
        max_depth: element nesting cap.

    Raises:
        UnsafeXmlError: the document is too big, too deep, not XML, or declares a DTD.
    """
    if len(data) > max_bytes:
        raise UnsafeXmlError(
            f"{name}: file is {len(data):,} bytes, over the limit of {max_bytes:,} bytes"
        )
    if not data.strip():
        raise UnsafeXmlError(f"{name}: file is empty")
    head = data[:4096].lstrip()
    if not head.startswith(b"<"):
        raise UnsafeXmlError(f"{name}: not an XML document (it does not start with '<')")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as err:
        if "Excessive depth" in err.msg:
            raise UnsafeXmlError(f"{name}: elements nest deeper than the limit of {max_depth}") from err
        raise UnsafeXmlError(f"{name}: not well-formed XML: {err.msg} (line {err.lineno})") from err
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXmlError(
            f"{name}: document type declarations (<!DOCTYPE>) are not allowed: "
            "BPMN and DMN never need one, and they carry entity attacks"
        )
    if _depth(root, max_depth) > max_depth:
        raise UnsafeXmlError(f"{name}: elements nest deeper than the limit of {max_depth}")
    return root
