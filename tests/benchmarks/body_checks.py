"""Benchmark (not a test): what checking a JSON body costs, by shape and size.

For each shape, the whole check a JSON route runs before FastAPI sees the body
(`engine.api.inputs.parse_json`: the nesting scan, the parser, the walk for values no
database keeps) at a small and an eight times larger size, in ms, and the ratio of the two.
A check linear in the body gives a ratio near 8; one that costs the square of the body gives
near 64 (the backtracking nesting scan that issue 10 found gave that for escaped quotes).

Usage: .venv/bin/python tests/benchmarks/body_checks.py [LARGE_BYTES]   (default 1,000,000)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import suppress

from engine.api.inputs import parse_json
from engine.services.errors import InvalidInput

DEPTH = 32
SHAPES: dict[str, Callable[[int], str]] = {
    "escaped quotes, never closed": lambda n: '{"data": {"s": "' + '\\"' * (n // 2),
    "backslashes, never closed": lambda n: '{"data": {"s": "' + "\\\\" * (n // 2),
    "only quotes": lambda n: '"' * n,
    "opening brackets": lambda n: "[" * n,
    "brackets inside one string": lambda n: '{"data": {"s": "' + "[{" * (n // 2) + '"}}',
    "brackets closed only in strings": lambda n: '{"data": {"x": ' + '["]}",' * (n // 6) + "0" + "]" * (n // 6),
    "empty arrays": lambda n: '{"data": {"x": [' + "[]," * (n // 3) + "[]]}}",
    "small integers": lambda n: '{"data": {"x": [' + "0," * (n // 2) + "0]}}",
    "empty strings": lambda n: '{"data": {"x": [' + '"",' * (n // 3) + '""]}}',
    "one NUL among many values": lambda n: '{"data": {"x": ["\\u0000"' + ",{}" * (n // 3) + "]}}",
}


def _ms(body: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with suppress(InvalidInput):
            parse_json(body, DEPTH)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main(large: int) -> None:
    small = large // 8
    print(f"{'shape':34} {small:>10,} B {large:>10,} B  ratio")
    for name, make in SHAPES.items():
        few, many = _ms(make(small).encode()), _ms(make(large).encode())
        print(f"{name:34} {few:10.1f} ms {many:10.1f} ms  {many / max(few, 1e-6):5.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
