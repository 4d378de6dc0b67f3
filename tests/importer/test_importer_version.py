"""IMPORTER_VERSION names what the importer writes: a change of output comes with a new version.

Deployments record the importer version that translated them and run that translation for
ever; the version only means something if two importers that write different XML never share
it. This test translates every model in the repository and compares a digest of the output
with the one recorded for the current version.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.bpmn.importer import IMPORTER_VERSION
from engine.bpmn.safe_xml import UnsafeXmlError, load_xml
from engine.bpmn.translated import serialized, translate
from engine.core.documents import Document
from engine.core.package import document_kind
from engine.core.report import Report
from tests.fixtures import ROOT

# The digest of `_output()` under each importer version. A version, once released, keeps its
# digest: when the importer's output changes, bump IMPORTER_VERSION and add a line. The corpus
# is the test and designer-export models, which change rarely; the services under processes/
# are left out because they change with every service added, not with the importer.
DIGESTS = {
    "1": "886e96e941c0418a893ee90bd6af4ce605cc7797d9bbeddc31853f91aea2338e",
}
CORPUS = ("tests", "designer_exports")


def _folders() -> list[Path]:
    return sorted({path.parent for top in CORPUS for path in (ROOT / top).rglob("*")
                   if path.suffix in (".bpmn", ".dmn")})


def _output() -> str:
    """The importer's translation of every model here, folder by folder as they are deployed together."""
    digest = hashlib.sha256()
    for folder in _folders():
        docs = []
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".bpmn", ".dmn"):
                continue
            try:
                root = load_xml(path.read_bytes(), name=path.name, max_bytes=10**8, max_depth=256)
            except UnsafeXmlError:
                continue  # a hostile sample; the importer never sees it
            kind = document_kind(root)
            if kind is not None:
                docs.append(Document(path.name, kind, root))
        for doc in translate(docs, Report()):
            digest.update(f"{folder.relative_to(ROOT).as_posix()}/{doc.name}\0".encode())
            digest.update(serialized(doc))
    return digest.hexdigest()


def test_a_change_of_the_importers_output_bumps_its_version() -> None:
    assert len(_folders()) >= 10, "the corpus moved: point CORPUS at the models"
    output = _output()
    assert IMPORTER_VERSION in DIGESTS, (
        f"IMPORTER_VERSION {IMPORTER_VERSION!r} has no recorded digest: add {IMPORTER_VERSION!r}: {output!r}")
    assert output == DIGESTS[IMPORTER_VERSION], (
        "the importer now writes other XML for some model than importer version "
        f"{IMPORTER_VERSION} did: bump IMPORTER_VERSION in engine/bpmn/importer.py (deployed models keep "
        f"their translation; analysts redeploy to take the new one) and record its digest, {output!r}")
