"""How much the engine stores of each kind of value a model or a request brings: one table,
read from the columns themselves.

PostgreSQL refuses a string longer than its column's VARCHAR length (SQLite keeps any length,
which is how over-long values passed the SQLite suite). Each kind of value below lists every
column it is written to, and its limit is the shortest of them: widening a column widens the
limit, and a new column that takes such a value is added here. Identifiers that do not fit are
refused where they come in (deploy, token creation); display names are shortened where stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from engine.db.models import (
    ApiToken,
    AuditEvent,
    DataUse,
    Deployment,
    DeploymentFile,
    HumanTaskRow,
    Incident,
    Instance,
    MessageBufferRow,
    MessageWaitRow,
    ProcessDefinition,
    ServiceCallRow,
    SignalWaitRow,
    StartTriggerRow,
    TimerRow,
)

# Integer columns (ids, versions, counts) are 32-bit on PostgreSQL, which refuses a bigger
# value even in a comparison: a bigger number names nothing.
MAX_INTEGER = 2**31 - 1
ELLIPSIS = "…"


@dataclass(frozen=True)
class Stored:
    """One kind of value and the columns it is written to."""

    kind: str
    columns: tuple[InstrumentedAttribute[Any], ...]

    @property
    def length(self) -> int:
        """The most characters every one of the columns keeps."""
        return min(_length(column) for column in self.columns)

    def fits(self, value: str) -> bool:
        return len(value) <= self.length

    def too_long(self, value: str) -> str:
        """The refusal for `value`, which does not fit."""
        return (f"the {self.kind} is {len(value):,} characters long; the engine stores at most "
                f"{self.length:,}")

    def shortened(self, value: str) -> str:
        """`value` as stored: whole when it fits, else cut with an ellipsis (display names only)."""
        return value if self.fits(value) else value[:self.length - len(ELLIPSIS)] + ELLIPSIS


def _length(column: InstrumentedAttribute[Any]) -> int:
    kind = column.property.columns[0].type
    assert isinstance(kind, String) and kind.length, f"{column} has no length to check against"
    return kind.length


# Identifiers a model brings: refused at deploy when they do not fit.
PROCESS_ID = Stored("process id", (ProcessDefinition.key, Instance.process_key, StartTriggerRow.process_key,
                                   AuditEvent.subject, DataUse.purpose))
ELEMENT_ID = Stored("element id", (HumanTaskRow.spec_id, HumanTaskRow.name, ServiceCallRow.spec_id,
                                   TimerRow.element_id, MessageWaitRow.element_id, SignalWaitRow.element_id,
                                   StartTriggerRow.element_id, AuditEvent.subject))
LANE = Stored("lane name", (HumanTaskRow.lane,))
AGENCY = Stored("agency code", (HumanTaskRow.agency, ApiToken.agency, DataUse.agency))
MESSAGE_NAME = Stored("message name", (MessageWaitRow.name, MessageBufferRow.name, StartTriggerRow.name,
                                       AuditEvent.subject))
SIGNAL_NAME = Stored("signal name", (SignalWaitRow.name, StartTriggerRow.name, AuditEvent.subject))
OPERATION = Stored("connector operation id", (ServiceCallRow.operation, DataUse.operation))
CONNECTOR = Stored("connector id", (DataUse.connector,))
FILE_NAME = Stored("file name", (DeploymentFile.name,))
# Who did something, written as "role:name" wherever an actor is kept.
ACTOR = Stored("actor", (AuditEvent.actor, Deployment.deployed_by, HumanTaskRow.claimed_by,
                         HumanTaskRow.completed_by, MessageBufferRow.sent_by, Incident.resolved_by, Instance.owner))
TOKEN_NAME = Stored("token name", (ApiToken.name,))

# Display names: shortened where stored, kept whole in the model.
DEPLOYMENT_NAME = Stored("deployment name", (Deployment.name,))
PROCESS_NAME = Stored("process name", (ProcessDefinition.name,))
TASK_TITLE = Stored("task name", (HumanTaskRow.title,))
CALL_NAME = Stored("service task name", (ServiceCallRow.name,))
OUTCOME = Stored("outcome", (DataUse.outcome,))
