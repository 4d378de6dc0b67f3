"""The compatibility report: what an analyst reads when a model is or is not deployable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


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
class Report:
    """All findings for one set of uploaded files."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def deployable(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def error(self, message: str, file: str = "", element_id: str = "", line: int | None = None) -> None:
        self.problems.append(Problem("error", message, file, element_id, line))

    def warning(self, message: str, file: str = "", element_id: str = "", line: int | None = None) -> None:
        self.problems.append(Problem("warning", message, file, element_id, line))

    def as_dict(self) -> dict[str, Any]:
        return {"deployable": self.deployable, "problems": [asdict(p) for p in self.problems]}
