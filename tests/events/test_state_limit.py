"""A timer cycle that never ends stops at the state limit, with the state it had.

Every round of a reminder that repeats for ever adds tasks to its instance's state, which
would grow without end (and each change would restore and store more of it). Past
PANJEREH_MAX_STATE_BYTES the change that would grow it further is refused: the instance
fails with an incident that says why, keeps the state the last round left, and no timer of
it fires again.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.core.statuses import InstanceStatus
from engine.db.models import Instance, TimerRow
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.events.helpers import audit_actions, deploy, start, tick
from tests.fixtures import Tokens

LIMIT = 20_000
# Each round adds about 1.6 KB to a state of about 6 KB: the limit is passed within a dozen
# rounds; a loop that runs this long was not stopped.
MAX_ROUNDS = 60


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_state_bytes": LIMIT})


def _stored(runtime: Runtime, instance_id: str) -> tuple[Any, ...]:
    with runtime.reading() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        return instance.status, instance.state, instance.data


def test_a_timer_cycle_that_never_ends_stops_at_the_state_limit(client: TestClient, tokens: Tokens,
                                                                runtime: Runtime) -> None:
    deploy(client, tokens, "timer_cycle_loop.bpmn")
    instance_id = start(client, tokens, "endless_reminders")
    rounds = 0
    before = after = _stored(runtime, instance_id)
    # The cycle's next firing is a minute after the last one was due: each tick one minute
    # further fires exactly one round.
    for minute in range(1, MAX_ROUNDS):
        before = after
        tick(runtime, minutes=minute)
        after = _stored(runtime, instance_id)
        if after[0] is not InstanceStatus.WAITING:
            break
        rounds += 1
    status, state, data = after
    assert status is InstanceStatus.FAILED, f"still {status} after {rounds} rounds"
    assert rounds > 3, "the limit stopped the loop before it had grown"
    assert (state, data) == (before[1], before[2]), "the refused round changed the stored state"
    assert len(state) <= LIMIT

    incidents = client.get("/api/v1/incidents", headers=tokens.headers("admin")).json()
    [incident] = [i for i in incidents if i["instance_id"] == instance_id]
    assert incident["kind"] == "state-too-large"
    assert f"over the limit of {LIMIT:,} (PANJEREH_MAX_STATE_BYTES)" in incident["message"]
    assert "nothing of this change was saved" in incident["message"]
    assert ("instance.failed", None) in audit_actions(runtime, instance_id)

    # Failed, it waits for an operator: the cycle fires no more, and its timers are gone.
    assert instance_id not in tick(runtime, minutes=MAX_ROUNDS + 10).fired
    assert _stored(runtime, instance_id) == after
    with runtime.reading() as session:
        assert session.execute(select(TimerRow.id).where(TimerRow.instance_id == instance_id,
                                                         TimerRow.fired_at.is_(None))).first() is None
