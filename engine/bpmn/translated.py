"""The importer's output as a deployment keeps it: translated once, stored, read back as it was.

What an analyst reviewed at deploy time is what runs afterwards, in every process and after
every restart. So the translated XML is serialized right after the importer ran (before the
compiler touches the trees) and read back without being translated again; only an explicit
redeploy translates the uploaded files anew.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from engine.bpmn.importer import import_documents
from engine.core.documents import Document
from engine.core.package import document_kind, schema_check
from engine.core.report import Report


class StoredDocumentError(ValueError):
    """A stored translation cannot be read back (it is missing or not a BPMN/DMN document)."""


def translate(docs: Sequence[Document], report: Report) -> list[Document]:
    """Check each safely loaded upload against its schema and translate them all together.

    The schema check comes first because it also normalizes what SpiffWorkflow reads either
    way (see `schema_check`); its findings and the importer's go to `report`.
    """
    for doc in docs:
        schema_check(doc, report)
    return import_documents(docs, report)


def serialized(doc: Document) -> bytes:
    """The document as a deployment stores it."""
    return bytes(etree.tostring(doc.root, encoding="UTF-8", xml_declaration=True))


def _parser() -> etree.XMLParser:
    # The bytes are our own serialization of a tree parsed under the upload rules, so they hold
    # no DTD or entity; the parser still resolves nothing. `huge_tree` because the importer may
    # nest a translated element a level or two deeper than the upload went.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                           remove_comments=False)


def restored(name: str, content: bytes | None) -> Document:
    """A stored translation read back, exactly as the importer left it.

    Raises:
        StoredDocumentError: nothing was stored for `name`, or it is not BPMN or DMN.
    """
    if content is None:
        raise StoredDocumentError(f"{name}: the deployment holds no translation of this file")
    try:
        root = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as err:
        raise StoredDocumentError(f"{name}: the stored translation is not XML ({err.msg})") from err
    kind = document_kind(root)
    if kind is None:
        raise StoredDocumentError(f"{name}: the stored translation is not a BPMN or DMN document")
    return Document(name, kind, root)
