"""The compatibility report: what an analyst reads when a model is or is not deployable.

Two views of one import. `problems` are the findings (errors block deployment, warnings
do not). `elements` lists every flow element of every uploaded BPMN file with one status:

- `executes`: runs as drawn;
- `translated`: written for another platform and carried over (`detail` says from what to what);
- `needs attention`: deployable, but an analyst should look (`detail` says what to do);
- `unsupported`: blocks deployment until changed (`detail` says why).

`files` says, per uploaded file, which modeler dialect and exporter it came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
ElementStatus = Literal["executes", "translated", "needs attention", "unsupported"]
STATUS_ORDER: tuple[ElementStatus, ...] = ("executes", "translated", "needs attention", "unsupported")
_SHOWN = 120


def shown(text: str, limit: int = _SHOWN) -> str:
    """`text` as quoted in a message: whole when short, else its start and its length.

    Messages quote the model text they are about; a 100,000-character expression quoted
    whole (sometimes twice) would bury the reason and bloat every report that holds it.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


@dataclass(frozen=True)
class Problem:
    """One finding, pinned to a file, an element and a line where known."""

    severity: Severity
    message: str
    file: str = ""
    element_id: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = ":".join(part for part in (self.file, str(self.line or "")) if part)
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{self.severity}: {where}{element} {self.message}".replace(": [", " [", 1)


@dataclass
class ElementEntry:
    """One BPMN element of an uploaded file and how the engine takes it."""

    file: str
    element_id: str
    element_type: str
    name: str
    line: int | None
    status: ElementStatus = "executes"
    details: list[str] = field(default_factory=list)

    def mark(self, status: ElementStatus, detail: str) -> None:
        """Record `detail`; the element's status becomes the worse of its current one and `status`."""
        if STATUS_ORDER.index(status) > STATUS_ORDER.index(self.status):
            self.status = status
        if detail and detail not in self.details:
            self.details.append(detail)


@dataclass(frozen=True)
class FileInfo:
    """Where one uploaded file came from."""

    file: str
    kind: str
    dialect: str
    exporter: str
    exporter_version: str
    executable: bool


@dataclass
class Report:
    """All findings for one set of uploaded files."""

    problems: list[Problem] = field(default_factory=list)
    elements: list[ElementEntry] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)

    @property
    def deployable(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def error(self, message: str, file: str = "", element_id: str = "", line: int | None = None) -> None:
        self.problems.append(Problem("error", message, file, element_id, line))

    def warning(self, message: str, file: str = "", element_id: str = "", line: int | None = None) -> None:
        self.problems.append(Problem("warning", message, file, element_id, line))

    def counts(self) -> dict[str, int]:
        """How many elements have each status."""
        return {status: sum(1 for e in self.elements if e.status == status) for status in STATUS_ORDER}

    def as_dict(self) -> dict[str, Any]:
        return {"deployable": self.deployable, "problems": [asdict(p) for p in self.problems],
                "files": [asdict(f) for f in self.files], "elements": [asdict(e) for e in self.elements],
                "counts": self.counts()}
