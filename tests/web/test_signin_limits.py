"""No guess opens an account: wrong codes count even though they are refused, a challenge locks
after five, and code checks and code requests are limited per person and per client, over HTTP
through the portal as an attacker would send them."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.app import build_app
from engine.db.models import SignInChallenge
from engine.services import signin
from engine.services.runtime import Runtime
from engine.web.i18n import translator
from tests.fixtures import serve
from tests.web.journey import ask_code, challenge_of, csrf, people, text, texted_code

T = translator("fa")


def _try(client: Any, challenge: str, token: str, code: str, **headers: str) -> Any:
    return client.post("/sign-in/code", headers=headers, follow_redirects=False,
                       data={"csrf_token": token, "challenge": challenge, "code": code, "next": "/cases"})


def _wrong(right: str, n: int = 0) -> str:
    guess = f"{n % 10**6:06d}"
    return guess if guess != right else f"{(n + 1) % 10**6:06d}"


def _signed_in(client: TestClient) -> bool:
    return client.get("/cases", follow_redirects=False).status_code == 200


def _attempts(runtime: Runtime, challenge: str) -> int:
    with runtime.reading() as session:
        row = session.execute(select(SignInChallenge).where(SignInChallenge.id == challenge)).scalar_one()
        assert row.used_at is None
        return row.attempts


def test_the_right_code_is_refused_once_five_wrong_ones_were_tried(client: TestClient, runtime: Runtime) -> None:
    asked = ask_code(client)
    challenge, token, right = challenge_of(asked.text), csrf(asked.text), texted_code(runtime)
    answers = [_try(client, challenge, token, _wrong(right, n)) for n in range(signin.MAX_ATTEMPTS)]
    assert [a.status_code for a in answers] == [422] * signin.MAX_ATTEMPTS
    assert T("signin.code_wrong") in text(answers[0].text)
    assert T("signin.code_attempts") in text(answers[-1].text), "the fifth wrong code says to ask for a new one"
    locked = _try(client, challenge, token, right)
    assert locked.status_code == 422
    assert T("signin.code_attempts") in text(locked.text)
    assert not _signed_in(client)
    assert _attempts(runtime, challenge) == signin.MAX_ATTEMPTS


def test_two_hundred_wrong_guesses_then_the_right_code_is_refused(client: TestClient, runtime: Runtime) -> None:
    asked = ask_code(client)
    challenge, token, right = challenge_of(asked.text), csrf(asked.text), texted_code(runtime)
    answers = [_try(client, challenge, token, _wrong(right, n)) for n in range(200)]
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {422: signin.CHECKS_PER_NATIONAL_CODE, 429: 200 - signin.CHECKS_PER_NATIONAL_CODE}
    limited = next(a for a in answers if a.status_code == 429)
    assert int(limited.headers["Retry-After"]) > 0
    assert T("signin.checks_too_many").split("{")[0] in text(limited.text)
    refused = _try(client, challenge, token, right)
    assert refused.status_code in (422, 429)
    assert not _signed_in(client)
    assert _attempts(runtime, challenge) == signin.MAX_ATTEMPTS


def test_rotating_challenges_of_one_national_code_are_limited_too(client: TestClient, runtime: Runtime) -> None:
    statuses = []
    for _ in range(3):
        asked = ask_code(client)
        challenge, token, right = challenge_of(asked.text), csrf(asked.text), texted_code(runtime)
        # Each challenge stays under its own lock of five.
        statuses += [_try(client, challenge, token, _wrong(right, n)).status_code
                     for n in range(signin.MAX_ATTEMPTS - 1)]
    allowed = signin.CHECKS_PER_NATIONAL_CODE
    assert statuses == [422] * allowed + [429] * (len(statuses) - allowed)
    refused = _try(client, challenge, token, right)
    assert refused.status_code == 429
    assert not _signed_in(client)


def test_code_checks_are_limited_per_client_whatever_it_claims_to_forward(client: TestClient,
                                                                          runtime: Runtime) -> None:
    """Many people, a few tries each (under every per-person limit), from one client that
    claims a new address in X-Forwarded-For on every request: one quota."""
    statuses = []
    for national, mobile in islice(people(), 4):
        for _ in range(2):
            asked = ask_code(client, national, mobile)
            assert asked.status_code == 200, asked.text
            challenge, token, right = challenge_of(asked.text), csrf(asked.text), texted_code(runtime, mobile)
            for n in range(signin.MAX_ATTEMPTS - 1):
                forged = f"203.0.113.{len(statuses) % 250 + 1}"
                statuses.append(_try(client, challenge, token, _wrong(right, n),
                                     **{"X-Forwarded-For": forged}).status_code)
    allowed = signin.CHECKS_PER_CLIENT
    assert len(statuses) > allowed
    assert statuses == [422] * allowed + [429] * (len(statuses) - allowed)


def test_asking_for_codes_is_limited_per_client(client: TestClient, runtime: Runtime) -> None:
    statuses = []
    for number, (national, mobile) in enumerate(islice(people(), signin.REQUESTS_PER_CLIENT + 2)):
        answer = ask_code(client, national, mobile, **{"X-Forwarded-For": f"198.51.100.{number + 1}"})
        statuses.append(answer.status_code)
    assert statuses == [200] * signin.REQUESTS_PER_CLIENT + [429, 429]
    assert int(answer.headers["Retry-After"]) > 0
    assert T("signin.too_many_here").split("{")[0] in text(answer.text)


def test_parallel_guesses_count_one_by_one(runtime: Runtime) -> None:
    """Wrong codes sent all at once from many connections of a real server: still five tries
    per challenge and the per-person limit, not one per thread."""
    with serve(build_app(runtime)) as url, httpx.Client(base_url=url, follow_redirects=True) as first:
        asked = ask_code(first)
        assert asked.status_code == 200, asked.text
        challenge, token, right = challenge_of(asked.text), csrf(asked.text), texted_code(runtime)
        cookies = dict(first.cookies)

        def guess(n: int) -> int:
            with httpx.Client(base_url=url, cookies=cookies) as http:
                return int(_try(http, challenge, token, _wrong(right, n)).status_code)

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = Counter(pool.map(guess, range(48)))
        assert statuses[422] == signin.CHECKS_PER_NATIONAL_CODE, statuses
        assert statuses[429] == 48 - signin.CHECKS_PER_NATIONAL_CODE, statuses
        assert _attempts(runtime, challenge) == signin.MAX_ATTEMPTS
        with httpx.Client(base_url=url, cookies=cookies) as http:
            assert _try(http, challenge, token, right).status_code in (422, 429)
            assert http.get("/cases", follow_redirects=False).status_code == 303
