"""Who is calling, and what each role may see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    STAFF = "staff"
    CITIZEN = "citizen"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `name` is the citizen's id for citizens, a label otherwise."""

    role: Role
    name: str
    agency: str | None = None

    @property
    def sees_everything(self) -> bool:
        """Admins operate the system; analysts test the models they deploy end to end."""
        return self.role in (Role.ADMIN, Role.ANALYST)

    @property
    def reads_everything(self) -> bool:
        """Who may read every case: those who see everything, and auditors, who change nothing
        (the API lets an auditor only read; see `engine.api.deps.READERS`)."""
        return self.sees_everything or self.role is Role.AUDITOR

    @property
    def actor(self) -> str:
        """How this caller appears in the audit log."""
        return f"{self.role.value}:{self.name}"
