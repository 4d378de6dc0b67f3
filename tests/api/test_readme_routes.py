"""The README's API table lists every route the API serves, and no other, with who may call it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.fixtures import ROOT

ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`\s]*)`")
ROLES = {"admin", "analyst", "staff", "citizen", "auditor"}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _table() -> dict[tuple[str, str], str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using the API", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            for method, path in ROUTE.findall(cells[0]):
                rows[(method, _shape(path))] = cells[1]
    return rows


def test_every_route_is_in_the_readme_with_its_roles(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    served = {(method.upper(), _shape(path)): operation["x-roles"]
              for path, item in spec["paths"].items() for method, operation in item.items()}
    table = _table()
    assert set(table) == set(served), {"missing from the README": sorted(set(served) - set(table)),
                                       "in the README but not served": sorted(set(table) - set(served))}
    for route, who in table.items():
        named = {word.strip(" ,") for word in who.split(",")}
        if named <= ROLES:
            assert named == set(served[route]), (route, who, served[route])
