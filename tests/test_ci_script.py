"""The CI script (.ci/run) runs its passes side by side: between them they run every test, what
the PostgreSQL pass leaves out is what tests.fixtures says never reaches a database, and the
passes share no broker state."""

from __future__ import annotations

import re

from tests.fixtures import DATABASE_FREE, ROOT

SCRIPT = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
# Each pass is one shell command, continued over lines.
PASSES = [command for command in re.split(r"(?<!\\)\n", SCRIPT) if "engine.bootstrap test" in command]


def test_the_sqlite_passes_run_every_test_between_them() -> None:
    # tests.fixtures refuses a browser check outside tests/browser.
    sqlite = [command for command in PASSES if "PANJEREH_TEST_DATABASE_URL=" not in command]
    assert sorted(re.findall(r'-m ("not browser"|browser)', " ".join(sqlite))) == ['"not browser"', "browser"]
    [browser] = [command for command in sqlite if re.search(r"-m browser\b", command)]
    assert "tests/browser" in browser and "--ignore" not in browser and "--ignore" not in " ".join(sqlite)


def test_the_postgresql_pass_leaves_out_exactly_the_database_free_tests() -> None:
    [postgresql] = [command for command in PASSES if "PANJEREH_TEST_DATABASE_URL=" in command]
    left_out = set(re.findall(r"--ignore=(\S+)", postgresql))
    assert left_out == {path.rstrip("/") for path in DATABASE_FREE}


def test_each_pass_has_a_redis_database_of_its_own() -> None:
    # The broker tests flush their Redis database before each test (tests/jobs/conftest.py).
    databases = re.findall(r'PANJEREH_TEST_REDIS_URL="redis://[^"]*/(\d+)"', SCRIPT)
    assert len(databases) == 2 and len(set(databases)) == 2, databases
