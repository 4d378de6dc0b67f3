"""Connector calls a transaction posts reach the dispatcher once it commits, and only then."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from engine.services.outbox import outbox
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import Parked, composed


class Recorder(Parked):
    """Hands nothing over; keeps what it was given, one list per hand-over."""

    def __init__(self) -> None:
        self.handed: list[list[str]] = []

    def hand_over(self, runtime: Runtime, call_ids: Sequence[str]) -> None:
        self.handed.append(list(call_ids))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def runtime(settings: Settings, recorder: Recorder) -> Iterator[Runtime]:
    with composed(settings, dispatcher=recorder) as built:
        yield built


def test_posted_calls_are_handed_over_after_the_commit_once_each_in_order(runtime: Runtime,
                                                                        recorder: Recorder) -> None:
    with runtime.unit_of_work() as session:
        outbox(session).post("call-b")
        outbox(session).post("call-a")
        outbox(session).post("call-b")
        assert recorder.handed == []  # nothing leaves before the commit
    assert recorder.handed == [["call-b", "call-a"]]
    with runtime.unit_of_work():
        pass
    assert recorder.handed == [["call-b", "call-a"]]


def test_a_rolled_back_transaction_hands_nothing_over(runtime: Runtime, recorder: Recorder) -> None:
    with pytest.raises(RuntimeError), runtime.unit_of_work() as session:
        outbox(session).post("call-a")
        raise RuntimeError("the change failed")
    assert recorder.handed == []
