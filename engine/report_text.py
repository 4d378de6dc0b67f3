"""The compatibility report as a terminal reader wants it: a table per file, then the verdict."""

from __future__ import annotations

from engine.core.report import STATUS_ORDER, Report

_MARK = {"executes": "ok", "translated": "translated", "needs attention": "ATTENTION", "unsupported": "UNSUPPORTED"}


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(report: Report, *, all_elements: bool = False) -> str:
    """Readable text: per file its dialect, then its elements (all, or only those not plainly executing)."""
    lines: list[str] = []
    for info in report.files:
        exporter = f"{info.exporter} {info.exporter_version}".strip() or "unknown exporter"
        lines.append(f"{info.file}  ({info.kind}, {info.dialect}, {exporter})")
        entries = [e for e in report.elements if e.file == info.file and (all_elements or e.status != "executes"
                                                                             or e.details)]
        if entries:
            lines.append(f"  {'line':>5}  {'status':<11}  {'element':<34}  what")
        for entry in entries:
            label = _cell(f"{entry.element_type} {entry.name or entry.element_id}", 34)
            details = entry.details or ["runs as drawn"]
            lines.append(f"  {entry.line or '':>5}  {_MARK[entry.status]:<11}  {label:<34}  {details[0]}")
            lines += [f"  {'':>5}  {'':<11}  {'':<34}  {more}" for more in details[1:]]
        counts = {status: sum(1 for e in report.elements if e.file == info.file and e.status == status)
                  for status in STATUS_ORDER}
        if info.kind == "bpmn":
            lines.append("  " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    listed = {(e.file, e.element_id) for e in report.elements}
    loose = [p for p in report.problems if (p.file, p.element_id) not in listed or not p.element_id]
    if loose:
        lines.append("other findings")
        lines += [f"  {p}" for p in loose]
    lines.append("deployable" if report.deployable else "NOT deployable")
    return "\n".join(lines)
