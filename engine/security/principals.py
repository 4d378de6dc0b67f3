"""Who is calling, and what each role may see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    STAFF = "staff"
    CITIZEN = "citizen"


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
    def actor(self) -> str:
        """How this caller appears in the audit log."""
        return f"{self.role.value}:{self.name}"
