"""A compiled package as the text of its documents: what crosses to a model worker process.

A `CompiledPackage` holds parsed specs and lxml trees, which do not cross a process
boundary; its documents as text do, and compile there to the same package. The model
workers build each deployment this way once (engine/core/isolated_changes.py), and a
`Migrate` change carries the version it moves to this way (engine/core/changes.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.core.documents import Document, DocumentKind
from engine.core.package import CompiledPackage, compile_package


@dataclass(frozen=True)
class PackageSource:
    """A compiled package's documents as text: what a worker compiles it from."""

    documents: tuple[tuple[str, DocumentKind, bytes], ...]
    callees: tuple[tuple[str, DocumentKind, bytes], ...]


def package_source(package: CompiledPackage) -> PackageSource:
    """The documents `package` was compiled from (already checked and translated)."""

    def texts(docs: tuple[Document, ...]) -> tuple[tuple[str, DocumentKind, bytes], ...]:
        return tuple((doc.name, doc.kind, etree.tostring(doc.root)) for doc in docs)

    return PackageSource(texts(package.documents), texts(package.callees))


# Our own serialization of trees already loaded safely (their depth and size were bounded when
# uploaded); the parser still resolves nothing. `huge_tree`, as for stored translations
# (engine/bpmn/translated.py): a translation may sit a level deeper than its upload.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                          remove_comments=False)


def compile_source(source: PackageSource) -> CompiledPackage:
    """The package `source` describes, compiled as a deployment's stored documents are."""

    def documents(texts: tuple[tuple[str, DocumentKind, bytes], ...]) -> list[Document]:
        return [Document(name, kind, etree.fromstring(text, _PARSER)) for name, kind, text in texts]

    return compile_package(documents(source.documents), callees=documents(source.callees), validate_schema=False)
