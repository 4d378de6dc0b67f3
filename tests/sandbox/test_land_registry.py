"""The deeds registry over real HTTP: deeds by owner and by number, encumbrances, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from forms.identifiers import check_postal_code

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "forms" / "data" / "iran-identifier-vectors.json")
                     .read_text())


@pytest.mark.parametrize(("code", "plate", "blocked", "kinds"), [
    ("0013542419", "7-4521-123", False, []),
    ("0499370899", "3-1187-42", False, ["mortgage"]),
    ("0040030008", "11-2210-9", True, ["seizure"]),
    ("0040030024", "2-905-77", False, []),
])
def test_demo_owners(shared: httpx.Client, code: str, plate: str, blocked: bool, kinds: list[str]) -> None:
    response = shared.get(f"/land-registry/owners/{code}/deeds")
    assert response.status_code == 200
    [deed] = response.json()["deeds"]
    person = shared.get(f"/civil-registry/persons/{code}").json()
    assert deed["plate"] == plate and deed["permit_blocked"] is blocked
    assert [e["kind"] for e in deed["encumbrances"]] == kinds
    assert deed["owners"] == [{"national_code": code, "name": f"{person['first_name']} {person['last_name']}",
                               "share": 6}]


def test_someone_who_owns_nothing(shared: httpx.Client) -> None:
    assert shared.get("/land-registry/owners/0040030016/deeds").json() == {"national_code": "0040030016",
                                                                           "deeds": []}


@pytest.mark.parametrize("code", VECTORS["nc_valid"] + ["0013542419", "0040030008"])
def test_a_deed_found_by_owner_is_found_by_number(shared: httpx.Client, code: str) -> None:
    owned = shared.get(f"/land-registry/owners/{code}/deeds")
    if owned.status_code == 404:
        assert owned.json()["error"] == "not-found"
        return
    for deed in owned.json()["deeds"]:
        assert shared.get(f"/land-registry/deeds/{deed['deed_number']}").json() == deed
        assert sum(owner["share"] for owner in deed["owners"]) == 6
        assert check_postal_code(deed["postal_code"]) is None
        assert deed["permit_blocked"] is any(e["blocks_permit"] for e in deed["encumbrances"])


@pytest.mark.parametrize(("path", "error"), [
    ("/owners/0013542410/deeds", "invalid-national-code"),
    ("/owners/0061234567/deeds", "not-found"),
    ("/deeds/12345", "invalid-deed-number"),
    ("/deeds/۱۷۴۷۲۹۱۶۶۴۰۰", "invalid-deed-number"),
    ("/deeds/174729166401", "not-found"),
])
def test_refusals(shared: httpx.Client, path: str, error: str) -> None:
    response = shared.get(f"/land-registry{path}")
    assert response.status_code == 404 and response.json()["error"] == error
