"""The engineering organisation over real HTTP: licences by membership number and the refusals."""

from __future__ import annotations

import re

import httpx
import pytest

from connectors.simulators.engineering_org import MAX_FLOORS


@pytest.mark.parametrize(("number", "status", "grade"), [
    ("01-10-12345", "active", "senior"), ("01-10-24680", "active", "3"),
    ("01-10-54321", "suspended", "1"), ("01-10-11111", "expired", "2"),
])
def test_demo_engineers(shared: httpx.Client, number: str, status: str, grade: str) -> None:
    response = shared.get(f"/engineering-org/members/{number}")
    assert response.status_code == 200
    member = response.json()
    assert (member["status"], member["grade"], member["discipline"]) == (status, grade, "architecture")
    assert member["max_floors"] == MAX_FLOORS[grade]


@pytest.mark.parametrize("number", [f"0{p}-{d}-{s:05d}" for p in (1, 2) for d in (10, 20) for s in (1, 777, 98765)])
def test_every_number_is_a_plausible_licence(shared: httpx.Client, number: str) -> None:
    member = shared.get(f"/engineering-org/members/{number}").json()
    assert member == shared.get(f"/engineering-org/members/{number}").json()
    assert member["status"] in ("active", "suspended", "expired")
    assert member["max_floors"] == MAX_FLOORS[member["grade"]]
    assert re.fullmatch(r"1[34][0-9]{2}/[01][0-9]/[0-3][0-9]", member["valid_until"])
    assert member["name"].startswith("مهندس ")


@pytest.mark.parametrize(("number", "error"), [
    ("1-10-12345", "invalid-membership-number"), ("01-10-1234a", "invalid-membership-number"),
    ("01-10-00000", "not-found"),
])
def test_refusals(shared: httpx.Client, number: str, error: str) -> None:
    response = shared.get(f"/engineering-org/members/{number}")
    assert response.status_code == 404 and response.json()["error"] == error
