"""Every growth path of the sandbox is measured before the C code runs: the refusal names the
limit, and the process never holds the big object.

The attacks run in a child process under an address-space limit, so that a sandbox that let
one through fails the test (with a MemoryError, a crash or a timeout) instead of taking the
machine down; the child reports, per attack, the refusal and how much its peak memory grew.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.core import sandbox_guards
from engine.core.sandbox import SandboxedEnvironment, SandboxLimits, SandboxViolation
from tests.core.sandbox_bombs import BOMBS, LIMITS, MEMORY_BOMBS

ROOT = Path(__file__).resolve().parents[2]
CHILD = r"""
import json, resource, sys
limit = 3 * 2**30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from engine.core.sandbox import SandboxedEnvironment, SandboxLimits, SandboxViolation
for attack_id, kind, code, limits in json.loads(sys.stdin.read()):
    env = SandboxedEnvironment(SandboxLimits(**limits))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        (env.evaluate if kind == "eval" else env.execute)(code, {})
        outcome = "ran to the end"
    except SandboxViolation as error:
        outcome = "refused: " + str(error)
    except BaseException as error:
        outcome = f"{type(error).__name__}: {error}"
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    print(json.dumps([attack_id, outcome, grown]), flush=True)
"""
# The peak of the whole run may grow this much: the measuring and ordinary work, never the bomb.
SMALL = 64 * 2**20


def _attack(attacks: list[tuple[str, str, str, dict[str, Any]]]) -> dict[str, tuple[str, int]]:
    done = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(attacks), cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    found = {attack_id: (outcome, grown) for attack_id, outcome, grown in map(json.loads, done.stdout.splitlines())}
    missing = [attack[0] for attack in attacks if attack[0] not in found]
    assert not missing, f"the child stopped (exit {done.returncode}) before {missing[0]}: {done.stderr[-2000:]}"
    return found


def test_bomb_list_is_broad_and_unique() -> None:
    ids = [attack_id for attack_id, _, _, _ in BOMBS] + [attack_id for attack_id, _ in MEMORY_BOMBS]
    assert len(ids) == len(set(ids))
    assert len(BOMBS) >= 50


def test_every_growth_path_is_refused_before_it_allocates() -> None:
    outcomes = _attack([(attack_id, kind, code, {"cpu_seconds": 5, **LIMITS.get(attack_id, {})})
                        for attack_id, kind, code, _ in BOMBS])
    failures = []
    for attack_id, _, _, words in BOMBS:
        outcome, grown = outcomes[attack_id]
        if not outcome.startswith("refused") or words not in outcome or grown > SMALL:
            failures.append(f"{attack_id}: {outcome[:200]} (peak grew {grown / 2**20:.0f} MB)")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("attack_id", "code"), MEMORY_BOMBS, ids=[attack_id for attack_id, _ in MEMORY_BOMBS])
def test_memory_grown_in_a_loop_is_bounded(attack_id: str, code: str) -> None:
    budget = 64 * 2**20
    outcome, grown = _attack([(attack_id, "exec", code, {"cpu_seconds": 30, "max_memory_bytes": budget})])[attack_id]
    assert outcome.startswith("refused: script used more than 64 MB of memory"), outcome[:300]
    # Checked every few milliseconds: the overshoot is what a loop allocates in that time.
    assert grown < budget + 256 * 2**20, grown


def test_every_allowed_container_method_is_classified() -> None:
    """A method scripts may call on a container compares (and is guarded), grows (and is
    wrapped) or never looks at a caller's value: allowing a new one means saying which."""
    for kind in (list, tuple, dict, set):
        allowed = sandbox_guards._READ_WRITE[kind]
        compares = set(sandbox_guards.COMPARING[kind])
        wrapped = {name for owner, name in sandbox_guards._METHODS if owner is kind}
        unclassified = allowed - wrapped - sandbox_guards.ELEMENT_BLIND[kind]
        assert not unclassified, f"{kind.__name__}: {sorted(unclassified)} neither guarded nor marked blind"
        assert compares <= wrapped and compares <= allowed
        for name in sandbox_guards.ELEMENT_BLIND[kind]:
            assert name not in wrapped, f"{kind.__name__}.{name} is both wrapped and marked blind"


def test_the_limits_are_named_and_caught_violations_stay_fatal() -> None:
    marks: list[int] = []
    env = SandboxedEnvironment(SandboxLimits(cpu_seconds=2), helpers={"mark": lambda: marks.append(1)})
    for code in ["try:\n    t = '%s' * 1000 % (('x' * 10000,) * 1000)\nexcept Exception:\n    mark()\nmark()",
                 "try:\n    t = [*range(600000), *range(600000)]\nexcept ValueError:\n    mark()\nmark()"]:
        with pytest.raises(SandboxViolation, match="over the limit of 1,000,000"):
            env.execute(code, {})
    assert marks == []


def test_ordinary_code_goes_through_the_guards_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    script = """
rows = [{'code': 'b', 'amount': 2}, {'code': 'a', 'amount': 1}, {'code': 'c', 'amount': 3}]
codes = [row['code'] for row in rows]
head, *rest = codes
merged = {**rows[0], 'extra': True, **{'amount': 5}}
combined = [*codes, *('x', 'y')]
unique = sorted({*codes, 'a'} | {'z'})
common = sorted({'a': 1, 'b': 2}.keys() & {'b', 'q'})
table = dict(zip(codes, range(3)))
table.update([('d', 4)], e=5)
found = ('a' in table, ['a', 'b'] in [['a', 'b']], (1, 2) in {(1, 2): 'p'}, rows[0] in rows, 'b' in codes)
codes[1:1] = ['n', 'm']
codes[len(codes):] = map(str.upper, ['k'])
ordered = sorted(rows, key=lambda row: (row['amount'], row['code']))
smallest = min(rows, key=lambda row: row['amount'])['code']
labels = [f"{i:02d}:{row['code']!r}:{row['amount']:>4.1f}" for i, row in enumerate(reversed(rows), 1)]
text = '%s has %d items (%.1f%%)' % ('list', len(rows), 12.5) + ' / ' + '{0}-{name}'.format('x', name='y')
kinds = [isinstance('a', str), isinstance(1, (int, float)), isinstance({}, dict), isinstance([], tuple)]
numbers = [int('ff', 16), int('12'), str(12) + str([1, 'a']), str.upper('abc'), ' '.join(map(str, [1, 2]))]
pairs = list(filter(None, [0, 1, 2])) + list(tuple((1, 2))) + sorted(set([3, 3, 2]))
position = codes.index('a') + codes.count('b')
codes.remove('n')
codes.sort(key=len, reverse=True)
nested = json_loads(json_dumps({'a': [1, {'b': None}]}))
same = nested == {'a': [1, {'b': None}]} and [1, [2]] < [1, [3]]
seen = {}
for row in rows:
    seen.setdefault(row['code'], []).append(row['amount'])
print('rows', rows[:1], len(rows))
"""
    context: dict[str, Any] = {}
    caplog.set_level("INFO", logger="panjereh.scripts")
    SandboxedEnvironment().execute(script, context)
    assert context["head"] == "b" and context["rest"] == ["a", "c"]
    assert context["merged"] == {"code": "b", "amount": 5, "extra": True}
    assert context["combined"] == ["b", "a", "c", "x", "y"]
    assert context["common"] == ["b"]
    assert context["table"] == {"b": 0, "a": 1, "c": 2, "d": 4, "e": 5}
    assert context["found"] == (True, True, True, True, True)
    assert context["codes"] == ["b", "m", "a", "c", "K"]
    assert [row["code"] for row in context["ordered"]] == ["a", "b", "c"]
    assert context["smallest"] == "a"
    assert context["labels"] == ["01:'c': 3.0", "02:'a': 1.0", "03:'b': 2.0"]
    assert context["text"] == "list has 3 items (12.5%) / x-y"
    assert context["kinds"] == [True, True, True, False]
    assert context["numbers"] == [255, 12, "12[1, 'a']", "ABC", "1 2"]
    assert context["pairs"] == [1, 2, 1, 2, 2, 3]
    assert context["position"] == 4
    assert context["nested"] == {"a": [1, {"b": None}]} and context["same"] is True
    assert context["seen"] == {"b": [2], "a": [1], "c": [3]}
    assert context["unique"] == ["a", "b", "c", "z"]
    assert [r.getMessage() for r in caplog.records] == ["script printed: rows [{'code': 'b', 'amount': 2}] 3"]
