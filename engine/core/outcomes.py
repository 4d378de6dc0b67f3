"""How a case ended, and the one status a citizen reads for it.

A service's card (`service.toml`) declares, per end event of its model, what reaching that
end means for the citizen: a kind (approved, refused, ...), the sentence they read, which
data variable holds the reason staff wrote, and what to do next. This module reads that part
of the card, refusing it with every problem named at once, and turns an instance's state
into a `CaseStatus`, so that the case page, `/track`, "My applications" and the
notifications all say the same thing. "Finished" is never an answer: a completed case whose
end event has no declared outcome is a card error, caught when the service is deployed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.core.statuses import InstanceStatus
from engine.core.visits import CardError


class OutcomeKind(StrEnum):
    """What an end event means for the citizen."""

    APPROVED = "approved"
    REFUSED = "refused"
    # The case is closed because the agency needs something only the citizen can give.
    NEEDS_INFORMATION = "needs_information"
    WITHDRAWN = "withdrawn"


class CaseStatus(StrEnum):
    """The status tag a citizen sees on a case; the outcome kinds are among them."""

    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_YOU = "waiting_for_you"
    APPROVED = "approved"
    REFUSED = "refused"
    NEEDS_INFORMATION = "needs_information"
    WITHDRAWN = "withdrawn"
    # A technical fault staff must look at; the citizen is told so, not that it was decided.
    PROBLEM = "problem"
    # Ended by staff (an operator's termination), not decided and not withdrawn.
    CLOSED = "closed"


# Statuses after which nothing more happens on the case: a decision, or the citizen's withdrawal.
DECIDED = frozenset({CaseStatus.APPROVED, CaseStatus.REFUSED, CaseStatus.NEEDS_INFORMATION,
                     CaseStatus.WITHDRAWN})

_LANGUAGES = ("fa", "en")
_KEYS = {"kind", "reason", "next", *_LANGUAGES}
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Outcome:
    """One end event's meaning, as the card declares it."""

    end_event: str
    kind: OutcomeKind
    text: dict[str, str]
    # The data variable in which staff wrote the reason (a refusal's, say), if any.
    reason: str | None = None
    next: dict[str, str] | None = None

    def reason_in(self, data: Mapping[str, Any]) -> str | None:
        """The reason staff wrote, read from the case's data; None when there is none."""
        if self.reason is None:
            return None
        value = data.get(self.reason)
        return value.strip() or None if isinstance(value, str) else None


def _texts(where: str, value: Any, problems: list[str]) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        problems.append(f"{where}: expected a table with fa and en texts")
        return None
    texts = {lang: value.get(lang) for lang in _LANGUAGES}
    for lang, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: the {lang} text is missing")
    extra = sorted(set(value) - set(_LANGUAGES))
    if extra:
        problems.append(f"{where}: unknown key {', '.join(map(repr, extra))}")
    return {k: v for k, v in texts.items() if isinstance(v, str)}


def read_outcomes(card: Mapping[str, Any], end_events: Collection[str] | None = None) -> dict[str, Outcome]:
    """The `[outcomes.<end_event_id>]` tables of a card, keyed by end event id.

    With `end_events` (the ids of the model's end events), every end event must have an
    outcome and every outcome must name one of them. Raises `CardError` naming every problem.
    """
    section = card.get("outcomes") or {}
    problems: list[str] = []
    found: dict[str, Outcome] = {}
    if not isinstance(section, Mapping):
        raise CardError(["[outcomes]: expected one table per end event, [outcomes.<end_event_id>]"])
    for end_event, entry in section.items():
        where = f"[outcomes.{end_event}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: expected a table")
            continue
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            problems.append(f"{where}: unknown key {', '.join(map(repr, unknown))}")
        kind = entry.get("kind")
        if kind not in set(OutcomeKind):
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(k.value for k in OutcomeKind)}")
        text = _texts(where, {k: entry.get(k) for k in _LANGUAGES}, problems)
        reason = entry.get("reason")
        if reason is not None and (not isinstance(reason, str) or not _VARIABLE.match(reason)):
            problems.append(f"{where}: reason {reason!r} is not a data variable name")
        next_ = _texts(f"{where} next", entry["next"], problems) if "next" in entry else None
        if end_events is not None and end_event not in end_events:
            problems.append(f"{where}: the model has no end event {end_event!r}")
        if kind in set(OutcomeKind) and text is not None:
            found[end_event] = Outcome(end_event, OutcomeKind(kind), text, reason, next_)
    if end_events is not None:
        problems.extend(f"end event {e!r} has no [outcomes.{e}]: say what reaching it means for the citizen"
                        for e in sorted(set(end_events) - set(section)))
    if problems:
        raise CardError(problems)
    return found


def case_status(status: str, outcome: Outcome | None, *, sent: bool, waiting_for_citizen: bool,
                withdrawn: bool = False) -> CaseStatus:
    """The tag for a case: from its instance status, the outcome of the end event it reached,
    whether the citizen has sent it, and whether a step waits for them."""
    if withdrawn:
        return CaseStatus.WITHDRAWN
    if status == InstanceStatus.COMPLETED:
        # A card is checked against its model at deployment; a case of a model deployed before
        # that check still reads as a technical problem rather than as a silent "finished".
        return CaseStatus(outcome.kind) if outcome is not None else CaseStatus.PROBLEM
    if status == InstanceStatus.TERMINATED:
        return CaseStatus.CLOSED
    if status == InstanceStatus.FAILED:
        return CaseStatus.PROBLEM
    if not sent:
        return CaseStatus.DRAFT
    return CaseStatus.WAITING_FOR_YOU if waiting_for_citizen else CaseStatus.IN_PROGRESS
