"""Importing models from any modeler: detect the dialect, translate, and report per element.

`import_documents` takes the safely parsed uploads and returns documents the engine can
compile, having rewritten each BPMN tree in place (the uploaded bytes are kept as they
are by the caller). Every flow element gets a report entry; `settle` then folds the
compiler's own findings into those entries, so that one table says, element by element,
what executes, what was translated, what needs attention and what is unsupported.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from engine.bpmn import expression_sites, extensions, presence, reusables, service_tasks, structure
from engine.bpmn.decision_tables import translate_decisions
from engine.bpmn.dialect import detect
from engine.bpmn.expression_syntax import translation_budget
from engine.bpmn.import_context import BPMN, FLOW_NODES, ImportContext, is_bpmn, local
from engine.bpmn.loops import translate_loops
from engine.core.documents import Document
from engine.core.report import ElementEntry, FileInfo, Report

# The version of what `import_documents` writes. A deployment keeps the documents the importer
# made for it, with this version, and runs them for ever (engine/services/deployments.py): a
# changed importer reaches only new deployments, or old ones an analyst redeploys on purpose.
# Bump it with every change that alters the XML produced for some model (a translation, a
# carried-over extension, a structural fix), so that each deployment says which importer made
# it. tests/importer/test_importer_version.py holds a digest of the output for every model in
# the repository under this version and fails until a change of output bumps it.
IMPORTER_VERSION = "1"


def _descriptive_processes(ctx: ImportContext) -> bool:
    """Mark processes not meant to run; whether any process in the file can run."""
    runnable = False
    for process in ctx.root.iterfind(f"{BPMN}process"):
        nodes = [n for n in process.iter() if is_bpmn(n) and local(n) in FLOW_NODES]
        if process.get("isExecutable", "true").strip().lower() == "false":
            for node in nodes:
                ctx.mark(node, "needs attention", "the process is marked not executable (a descriptive "
                         "diagram); set isExecutable to run it")
        elif not nodes:
            process.set("isExecutable", "false")
        else:
            runnable = True
    return runnable


def _loops(ctx: ImportContext) -> None:
    for element_id, note in translate_loops(ctx.root):
        changed = "→" in note or "translated" in note.lower()
        ctx.mark(element_id, "translated" if changed else "needs attention", note)


def decision_outputs(docs: Sequence[Document]) -> dict[str, list[str]]:
    """The output names of every decision table among `docs`, by decision id."""
    found: dict[str, list[str]] = {}
    for doc in docs:
        if doc.kind != "dmn":
            continue
        for node in doc.root.iter():
            if isinstance(node.tag, str) and etree.QName(node).localname == "decision":
                found[node.get("id", "")] = [o.get("name", "") for o in node.iter()
                                             if isinstance(o.tag, str) and etree.QName(o).localname == "output"
                                             and o.get("name")]
    return found


def import_document(doc: Document, report: Report, outputs: dict[str, list[str]] | None = None) -> Document:
    """Translate one document in place and list its elements in `report`."""
    origin = detect(doc.root)
    if doc.kind != "bpmn":
        translate_decisions(doc.root, doc.name, report)
        report.files.append(FileInfo(doc.name, doc.kind, origin.dialect, origin.exporter, origin.exporter_version,
                                     True))
        return doc
    ctx = ImportContext(doc.name, doc.root, origin, report, decision_outputs=outputs or {})
    ctx.list_elements()
    runnable = _descriptive_processes(ctx)
    report.files.append(FileInfo(doc.name, doc.kind, origin.dialect, origin.exporter, origin.exporter_version,
                                 runnable))
    reusables.apply(ctx)
    service_tasks.apply(ctx)
    extensions.apply(ctx)
    presence.apply(ctx)
    _loops(ctx)
    expression_sites.apply(ctx)
    structure.apply(ctx)
    return doc


def import_documents(docs: Sequence[Document], report: Report) -> list[Document]:
    """Every document translated, each BPMN file's elements listed in `report`."""
    outputs = decision_outputs(docs)
    with translation_budget():
        return [import_document(doc, report, outputs) for doc in docs]


def settle(report: Report) -> None:
    """Fold problems into element entries: an error makes its element unsupported, a
    warning makes it need attention."""
    by_key = {(e.file, e.element_id): e for e in report.elements}
    by_id: dict[str, list[ElementEntry]] = {}
    for listed in report.elements:
        by_id.setdefault(listed.element_id, []).append(listed)
    for problem in report.problems:
        if not problem.element_id:
            continue
        entry: ElementEntry | None = by_key.get((problem.file, problem.element_id))
        if entry is None:
            candidates = by_id.get(problem.element_id, [])
            entry = candidates[0] if len(candidates) == 1 else None
        if entry is None:
            continue
        entry.mark("unsupported" if problem.severity == "error" else "needs attention", problem.message)
