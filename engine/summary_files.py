"""Which files of a folder an analyst would upload with a BPMN file: the DMN tables, forms
and JSON schemas beside it, the processes it calls (and those they call) and the decisions
it calls, from beside it or one folder down. Used by `panjereh validate --summary`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine.bpmn.safe_xml import UnsafeXmlError, load_xml
from engine.services.deployments import UploadedFile

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
_SIBLING_SUFFIXES = {".dmn", ".form", ".json"}


_DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                   "http://www.omg.org/spec/DMN/20151101/dmn.xsd", "https://www.omg.org/spec/DMN/20230324/MODEL/")
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_SMALL = 2**20


@cache
def is_bpmn_file(path: Path) -> bool:
    if path.suffix.lower() not in {".bpmn", ".xml"} or not path.is_file():
        return False
    with path.open("rb") as handle:
        return BPMN_NS.encode() in handle.read(8192)


def bpmn_files(root: Path) -> Iterator[Path]:
    """Every BPMN document under `root`, in a stable order."""
    for path in sorted(root.rglob("*")):
        if is_bpmn_file(path):
            yield path


@dataclass(frozen=True)
class _Names:
    """What one BPMN or DMN file defines and refers to (each file is read once per run)."""

    processes: frozenset[str] = frozenset()
    calls: frozenset[str] = frozenset()
    decisions: frozenset[str] = frozenset()
    decides: frozenset[str] = frozenset()


@cache
def _names(path: Path) -> _Names:
    try:
        root = load_xml(path.read_bytes(), name="", max_bytes=50 * 2**20, max_depth=512)
    except (UnsafeXmlError, OSError):
        return _Names()
    processes = {p.get("id", "") for p in root.iterfind(f"{{{BPMN_NS}}}process")}
    # calledElement is a QName; a process id never holds a colon, so a prefix is dropped.
    calls = {c.get("calledElement", "").split(":")[-1] for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
    calls |= {c.get("processId", "").lstrip("=").strip().strip('"') for c in root.iter(f"{{{ZEEBE_NS}}}calledElement")}
    decisions = {d.get("id", "") for ns in _DMN_NAMESPACES for d in root.iter(f"{{{ns}}}decision")}
    decides = {t.get(f"{{{CAMUNDA_NS}}}decisionRef", "") for t in root.iter(f"{{{BPMN_NS}}}businessRuleTask")}
    decides |= {(d.text or "").strip() for d in root.iter(f"{{{SPIFF_NS}}}calledDecisionId")}
    decides |= {d.get("decisionId", "").lstrip("=").strip().strip('"')
                for d in root.iter(f"{{{ZEEBE_NS}}}calledDecision")}
    return _Names(*(frozenset(found - {""}) for found in (processes, calls, decisions, decides)))


def process_keys(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The processes a BPMN file defines and those it calls."""
    names = _names(path)
    return names.processes, names.calls


def _decision_tables(path: Path, beside: list[Path]) -> list[Path]:
    """DMN files under the file's folder that define the decisions it calls and no DMN beside it
    does (SpiffWorkflow's and many projects' layout keeps them in a subfolder such as dmn/)."""
    missing = set(_names(path).decides) - {d for s in beside if s.suffix.lower() == ".dmn"
                                           for d in _names(s).decisions}
    if not missing:
        return []
    below = sorted(p for p in path.parent.glob("*/*.dmn") if p.is_file() and p.stat().st_size < _SMALL)
    found: list[Path] = []
    while missing:
        offering = [p for p in below if missing & _names(p).decisions and p not in found]
        if not offering:
            break
        chosen = max(offering, key=lambda p: (len(missing & _names(p).decisions), _common_prefix(p.stem, path.stem)))
        found.append(chosen)
        missing -= _names(chosen).decisions
    return found


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def with_siblings(path: Path, content: bytes) -> list[UploadedFile]:
    """The file and what it needs from its folder: decisions, forms and the processes it
    calls, and those they call in turn; decisions it calls may also come from one folder
    below. When several files define a called process, the one whose name is closest to
    the file's (the longest common prefix) is taken."""
    files = [UploadedFile(path.name, content)]
    siblings = [s for s in sorted(path.parent.iterdir()) if s != path and s.is_file()]
    beside = [s for s in siblings if s.suffix.lower() in _SIBLING_SUFFIXES and s.stat().st_size < _SMALL]
    files += [UploadedFile(s.name, s.read_bytes()) for s in beside]
    files += [UploadedFile(d.name, d.read_bytes()) for d in _decision_tables(path, beside)
              if d.name not in {s.name for s in beside}]
    have, wanted = set(_names(path).processes), set(_names(path).calls)
    candidates = [s for s in siblings if is_bpmn_file(s)] if wanted - have else []
    while wanted - have:
        # A sibling that defines this file's own processes is another version of it, not a callee.
        offering = [s for s in candidates if (wanted - have) & _names(s).processes and not have & _names(s).processes]
        if not offering:
            break
        chosen = max(offering, key=lambda s: (_common_prefix(s.name, path.name), -len(s.name)))
        files.append(UploadedFile(chosen.name, chosen.read_bytes()))
        candidates.remove(chosen)
        have |= _names(chosen).processes
        wanted |= _names(chosen).calls
    return files
