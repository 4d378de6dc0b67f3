"""No JSON body freezes the server: a body of any shape is judged in time linear in its size,
in a worker thread while the event loop keeps answering, and only once its sender has shown a
valid token.

How fast each shape is judged at two sizes is printed by tests/benchmarks/body_checks.py; here
the checks are what the answers are, which patterns can backtrack, and what answers first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import inputs
from engine.app import build_app
from engine.compose import build_runtime
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import ADMIN_TOKEN, ROOT, Tokens, model_files, serve

START = "/api/v1/processes/approval/instances"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def deployed(client: TestClient, tokens: Tokens) -> None:
    assert client.post("/api/v1/deployments", files=model_files("approval.bpmn"),
                       headers=tokens.headers("analyst")).status_code == 201


def _shapes(size: int, depth: int) -> dict[str, tuple[str, int, str]]:
    """Bodies of about `size` characters: (body, status, a word the answer must hold)."""
    half, third = size // 2, size // 3
    return {
        "a string of escaped quotes that never ends": ('{"data": {"s": "' + '\\"' * half, 422, "not valid JSON"),
        "a string of escaped backslashes that never ends": ('{"data": {"s": "' + "\\\\" * half, 422,
                                                             "not valid JSON"),
        "a string ending in a lone backslash": ('{"data": {"s": "' + "\\\\" * half + "\\", 422, "not valid JSON"),
        "only quotes": ('"' * size, 422, "not valid JSON"),
        "escaped quotes outside any string": ('[\\"' * third, 422, "not valid JSON"),
        "a megabyte of opening brackets": ("[" * size, 422, "PANJEREH_MAX_DATA_DEPTH"),
        "brackets nested outside, closed only inside strings": (
            '{"data": {"x": ' + '["]}]}",' * (size // 8) + "0" + "]" * (size // 8) + "}}", 422,
            "PANJEREH_MAX_DATA_DEPTH"),
        "a string of brackets, then brackets nested too deep": (
            '{"data": {"s": "' + "[{" * third + '", "x": ' + "[" * third, 422, "PANJEREH_MAX_DATA_DEPTH"),
        "brackets only inside a string": ('{"data": {"s": "' + "[{" * (size // 3) + '"}}', 201, "id"),
        "escaped quotes inside a string that ends": ('{"data": {"s": "' + '\\"' * third + '"}}', 201, "id"),
        "nesting within the limit, strings full of closers": (
            '{"data": {"x": ' + '["]\\"}",' * (depth - 2) + "0" + "]" * (depth - 2) + "}}", 201, "id"),
        "many small strings": ('{"data": {"x": [' + '"",' * (size // 4) + '""]}}', 201, "id"),
    }


def test_bodies_of_every_shape_are_answered_as_the_parser_would(client: TestClient, tokens: Tokens,
                                                                runtime: Runtime, deployed: None) -> None:
    """At the size limit, hostile and harmless shapes alike: refused for what they are (a string
    that never ends, nesting past the limit), or taken when they are valid data."""
    size = runtime.settings.max_data_bytes * 9 // 10
    headers = {**tokens.headers("analyst"), **JSON}
    for name, (body, status, word) in _shapes(size, runtime.settings.max_data_depth).items():
        response = client.post(START, content=body, headers=headers)
        assert response.status_code == status, (name, response.status_code, response.text[:300])
        assert word in response.text, (name, response.text[:300])


def _backtracking(pattern: re.Pattern[str]) -> list[str]:
    """The quantifiers of `pattern` that may give back what they matched (greedy or lazy)."""
    found: list[str] = []

    def walk(items: Any) -> None:
        for op, argument in items:
            if str(op) in ("MAX_REPEAT", "MIN_REPEAT"):
                found.append(str(op))
            for part in argument if isinstance(argument, tuple | list) else ():
                if isinstance(part, sre_parse.SubPattern):
                    walk(part)
                elif isinstance(part, list):
                    for branch in part:
                        if isinstance(branch, sre_parse.SubPattern):
                            walk(branch)

    walk(sre_parse.parse(pattern.pattern, pattern.flags))
    return found


def test_no_pattern_that_reads_a_body_can_backtrack() -> None:
    """A regular expression that can give back what it matched can cost the square of the text
    (or worse) on a text made for it; every one applied to request bodies is possessive."""
    patterns = {name: value for name, value in vars(inputs).items() if isinstance(value, re.Pattern)}
    assert patterns, "the nesting check is made of patterns"
    for name, pattern in patterns.items():
        assert not _backtracking(pattern), f"inputs.{name} can backtrack: {pattern.pattern}"


def _reference_depth_exceeded(text: str, limit: int) -> bool:
    """The nesting check written the plain way, one character at a time."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(st.text(alphabet='[]{}"\\ a,:\n', max_size=60), st.integers(min_value=0, max_value=6))
def test_the_nesting_check_agrees_with_a_character_by_character_reading(text: str, limit: int) -> None:
    assert inputs.nests_deeper_than(text, limit) == _reference_depth_exceeded(text, limit), (text, limit)


def test_a_body_is_not_read_before_its_sender_shows_a_valid_token(client: TestClient, tokens: Tokens) -> None:
    """Without a token (or with one of a role the route refuses) nothing of the body is parsed:
    the answer is 401 or 403, even for a body that is not JSON at all."""
    broken = '{"data": {"s": "' + '\\"' * 1000
    assert client.post(START, content=broken, headers=JSON).status_code == 401
    assert client.post(START, content=broken, headers={**JSON, "Authorization": "Bearer nope"}).status_code == 401
    refused = client.post("/api/v1/messages", content=broken, headers={**JSON, **tokens.headers("citizen")})
    assert refused.status_code == 403, refused.text
    assert client.post(START, content=broken, headers={**JSON, **tokens.headers("analyst")}).status_code == 422


def _heavy_bodies(limit: int) -> list[bytes]:
    """Bodies near the size limit that take the check its longest: many small values to walk,
    and one character no database keeps, so every one is refused only after the whole walk."""
    items = limit // 3
    return [('{"data": {"x": ["\\u0000"' + ",0" * items + "]}}").encode(),
            ('{"data": {"x": ["\\u0000"' + ",{}" * (items * 2 // 3) + "]}}").encode(),
            ('{"data": {"x": ["\\u0000"' + ',""' * (items * 2 // 3) + "]}}").encode()]


def test_health_answers_while_large_bodies_are_checked(tmp_path: Path) -> None:
    """Megabyte bodies are checked one after another in a worker thread; meanwhile `/health`,
    asked again and again, keeps answering. On the event loop, no health answer could come
    between a body's arrival and its refusal."""
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'bodies.db'}",
                        processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, sandbox=False)
    runtime = build_runtime(settings)
    answered: list[tuple[str, int]] = []
    lock = threading.Lock()
    bodies_done = threading.Event()

    def record(kind: str, status: int) -> None:
        with lock:
            answered.append((kind, status))

    try:
        with serve(build_app(runtime)) as url:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **JSON}

            def post(body: bytes) -> Callable[[], None]:
                def send() -> None:
                    record("body", httpx.post(f"{url}{START}", content=body, headers=headers, timeout=None).status_code)
                return send

            def ask_health() -> None:
                with httpx.Client(base_url=url, timeout=None) as http:
                    while not bodies_done.is_set():
                        record("health", http.get("/api/v1/health").status_code)

            senders = [threading.Thread(target=post(body)) for body in
                       _heavy_bodies(settings.max_data_bytes) * 2]
            asker = threading.Thread(target=ask_health)
            for thread in senders:
                thread.start()
            asker.start()
            for thread in senders:
                thread.join()
            bodies_done.set()
            asker.join()
    finally:
        runtime.close()
    bodies = [status for kind, status in answered if kind == "body"]
    assert bodies == [422] * len(senders), bodies
    last_body = max(i for i, (kind, _) in enumerate(answered) if kind == "body")
    meanwhile = [status for kind, status in answered[:last_body] if kind == "health"]
    assert len(meanwhile) >= 2 * len(senders), f"health answered {len(meanwhile)} times while bodies were checked"
    assert set(meanwhile) == {200}, meanwhile

