"""The status tag a citizen sees for their own case, from its steps alone (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.core.outcomes import CaseStatus
from engine.core.statuses import TaskStatus
from engine.db.models import HumanTaskRow, Instance
from engine.services.casefile import Progress, standing

CITIZEN = "0013542419"


def _case() -> Instance:
    return Instance(id="c1", process_key="p", version=1, status="running", tracking_code="000000000001",
                    owner=CITIZEN, data={}, created_at=datetime.now(UTC), updated_at=datetime.now(UTC))


def _step(audience: str, status: TaskStatus) -> HumanTaskRow:
    return HumanTaskRow(id=f"{audience}-{status}", instance_id="c1", spec_id="s", name="s", title="s", kind="user",
                        audience=audience, agency=None if audience == "citizen" else "civil_registry", status=status)


def test_a_case_is_a_draft_until_the_citizen_sends_it_or_an_agency_takes_a_step_in_it() -> None:
    started = [_step("citizen", TaskStatus.READY)]
    assert standing(_case(), Progress(started, None), {}).status is CaseStatus.DRAFT
    sent = [_step("citizen", TaskStatus.COMPLETED)]
    assert standing(_case(), Progress(sent, None), {}).status is CaseStatus.IN_PROGRESS
    # The registries' answers went to a clerk before the citizen was asked anything.
    reviewing = [_step("agency", TaskStatus.READY)]
    assert standing(_case(), Progress(reviewing, None), {}).status is CaseStatus.IN_PROGRESS
    asked_after = [_step("agency", TaskStatus.COMPLETED), _step("citizen", TaskStatus.READY)]
    assert standing(_case(), Progress(asked_after, None), {}).status is CaseStatus.WAITING_FOR_YOU
