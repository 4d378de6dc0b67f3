"""Overload: many people complete one task at the same moment through a real server. One
wins; every other answer is a 409 (the race was lost) or a 503 with Retry-After (too busy),
never a 500."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from engine.app import build_app
from engine.services.runtime import Runtime
from tests.fixtures import Tokens, model_files, serve

CONCURRENT = 50


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    with serve(build_app(runtime)) as url:
        yield url


def _together(url: str, headers: dict[str, str], count: int) -> list[httpx.Response]:
    barrier = threading.Barrier(count)
    results: list[httpx.Response | None] = [None] * count

    def send(i: int) -> None:
        with httpx.Client(timeout=120) as http:
            barrier.wait()
            results[i] = http.post(url, json={"data": {"amount": 100 + i, "channel": "sms"}}, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def test_fifty_completions_of_one_task(server: str, tokens: Tokens) -> None:
    headers = tokens.headers("analyst")
    with httpx.Client(base_url=server, headers=headers, timeout=30) as http:
        assert http.post("/api/v1/deployments", files=model_files("approval.bpmn")).status_code == 201
        instance = http.post("/api/v1/processes/approval/instances", json={"data": {}}).json()
        [task] = http.get("/api/v1/tasks", params={"instance_id": instance["id"]}).json()
    responses = _together(f"{server}/api/v1/tasks/{task['id']}/complete", headers, CONCURRENT)
    codes = [r.status_code for r in responses]
    summary = {code: codes.count(code) for code in sorted(set(codes))}
    print(f"{CONCURRENT} concurrent completions of one task: {summary}")
    assert len(responses) == CONCURRENT
    assert codes.count(200) == 1, summary
    assert set(codes) <= {200, 409, 503}, (summary, [r.text for r in responses if r.status_code >= 500][:3])
    assert all("retry-after" in r.headers for r in responses if r.status_code == 503)
