"""`--cross-check-index PATH`: run the tests under PATH with the state index checked against
SpiffWorkflow's own tree walk (`engine.core.workflow`).

While such a test runs (setup included), every indexed query is compared with the walk and
every `Execution` compares its whole index after each change (the changes run in this
process for it, not in model workers). A disagreement fails the
test, even when the code under test turned the error into a failed instance (as it does
with any error of a step): mismatches are also kept in `IndexedQueries.mismatches`, which
is read after the test. The option may be given several times; .ci/run gives it for the
behaviour, events and designer-export suites.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

from engine.core.workflow import IndexedQueries

_WORKERS_VARIABLE = "PANJEREH_MODEL_WORKERS"
_WORKERS = pytest.StashKey[str | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cross-check-index", action="append", default=[], metavar="PATH",
        help="check the engine's state index against SpiffWorkflow's tree walk in the tests under PATH "
             "(a directory or file; repeatable)")


def _checked(item: pytest.Item) -> bool:
    paths = [Path(path).resolve() for path in item.config.getoption("cross_check_index")]
    here = Path(item.path).resolve()
    return any(here == path or path in here.parents for path in paths)


def _take_mismatches() -> list[str]:
    found = list(IndexedQueries.mismatches)
    IndexedQueries.mismatches.clear()
    return found


def _failure(found: list[str]) -> str:
    shown = "\n".join(f"- {message[:2000]}" for message in found[:5])
    return f"the state index disagreed with SpiffWorkflow's tree walk {len(found)} time(s):\n{shown}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    _take_mismatches()  # each test answers for its own
    if _checked(item):
        IndexedQueries.cross_check = True
        # The check runs where the change runs: in this process, not in a model worker.
        item.stash[_WORKERS] = os.environ.get(_WORKERS_VARIABLE)
        os.environ[_WORKERS_VARIABLE] = "0"
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    if IndexedQueries.cross_check and (found := _take_mismatches()):
        pytest.fail(_failure(found), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        result = yield
    finally:
        checking, IndexedQueries.cross_check = IndexedQueries.cross_check, False
        if _WORKERS in item.stash:
            previous = item.stash[_WORKERS]
            if previous is None:
                os.environ.pop(_WORKERS_VARIABLE, None)
            else:
                os.environ[_WORKERS_VARIABLE] = previous
    if checking and (found := _take_mismatches()):
        pytest.fail(_failure(found), pytrace=False)
    return result
