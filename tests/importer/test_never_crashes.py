"""Whatever an upload holds, the importer answers with a report, never an unhandled exception."""

from __future__ import annotations

import random
from pathlib import Path

from lxml import etree

from engine.services.deployments import UploadedFile, check
from engine.settings import Settings

EXPORTS = Path(__file__).resolve().parents[2] / "designer_exports"


def _mutations(content: bytes, rng: random.Random, count: int) -> list[bytes]:
    """`count` damaged copies: elements dropped, attributes removed or changed, text replaced."""
    found = []
    for _ in range(count):
        root = etree.fromstring(content)
        nodes = [n for n in root.iter() if isinstance(n.tag, str) and n is not root]
        for node in rng.sample(nodes, min(len(nodes), rng.randint(1, 4))):
            action = rng.choice(("drop", "attribute", "text", "id"))
            parent = node.getparent()
            if action == "drop" and parent is not None:
                parent.remove(node)
            elif action == "attribute" and node.attrib:
                del node.attrib[rng.choice(list(node.attrib))]
            elif action == "text":
                node.text = rng.choice(("${", "=(", "PT", "R/", "'", "bpmn:getDataObject(", "__import__('os')", ""))
            elif action == "id" and node.get("id"):
                node.set("id", rng.choice(("", "x y", nodes[0].get("id") or "dup")))
        found.append(etree.tostring(root))
    return found


def test_damaged_exports_always_get_a_report(settings: Settings) -> None:
    rng = random.Random(20261129)
    models = sorted(EXPORTS.glob("*/*.bpmn"))
    assert len(models) >= 30
    checked = 0
    for path in models:
        for damaged in _mutations(path.read_bytes(), rng, 6):
            loaded, report = check([UploadedFile(path.name, damaged)], settings)
            assert loaded is not None or not report.deployable
            assert all(p.message for p in report.problems)
            checked += 1
    assert checked == 6 * len(models)
