"""Connector calls a transaction posts reach the dispatcher once it commits, and only then."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from engine.services.outbox import outbox
from engine.services.runtime import Runtime


def _recording(runtime: Runtime) -> list[list[str]]:
    handed: list[list[str]] = []

    def dispatch(call_ids: Iterable[str]) -> None:
        handed.append(list(call_ids))

    runtime.dispatch = dispatch
    return handed


def test_posted_calls_are_handed_over_after_the_commit_once_each_in_order(runtime: Runtime) -> None:
    handed = _recording(runtime)
    with runtime.unit_of_work() as session:
        outbox(session).post("call-b")
        outbox(session).post("call-a")
        outbox(session).post("call-b")
        assert handed == []  # nothing leaves before the commit
    assert handed == [["call-b", "call-a"]]
    with runtime.unit_of_work():
        pass
    assert handed == [["call-b", "call-a"]]


def test_a_rolled_back_transaction_hands_nothing_over(runtime: Runtime) -> None:
    handed = _recording(runtime)
    with pytest.raises(RuntimeError), runtime.unit_of_work() as session:
        outbox(session).post("call-a")
        raise RuntimeError("the change failed")
    assert handed == []
