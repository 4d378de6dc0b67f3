"""The CI script (.ci/run) runs its two passes side by side: what it leaves out of the PostgreSQL
pass is what tests.fixtures says never reaches a database, and the passes share no broker state."""

from __future__ import annotations

import re

from tests.fixtures import DATABASE_FREE, ROOT

SCRIPT = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_postgresql_pass_leaves_out_exactly_the_database_free_tests() -> None:
    # Both passes are one shell command each, continued over lines; the PostgreSQL one names the URL.
    commands = re.split(r"(?<!\\)\n", SCRIPT)
    [postgresql] = [command for command in commands if "PANJEREH_TEST_DATABASE_URL=" in command]
    left_out = set(re.findall(r"--ignore=(\S+)", postgresql))
    assert left_out == {path.rstrip("/") for path in DATABASE_FREE}


def test_each_pass_has_a_redis_database_of_its_own() -> None:
    # The broker tests flush their Redis database before each test (tests/jobs/conftest.py).
    databases = re.findall(r'PANJEREH_TEST_REDIS_URL="redis://[^"]*/(\d+)"', SCRIPT)
    assert len(databases) == 2 and len(set(databases)) == 2, databases
