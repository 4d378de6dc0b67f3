"""A number question answered with a number outside ±(2**53 − 1), of any length, in ASCII or Persian
digits or with digit groups, is refused with the question's own message in the page's language,
on the portal and over the API alike: never a 500, and nothing is saved, with or without a
`maximum` in the form."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import Draft, Instance
from engine.services.catalogue import deploy_catalogue
from engine.services.runtime import Runtime
from forms.storable import MAX_SAFE_INTEGER
from tests.fixtures import ROOT, Tokens
from tests.web.journey import csrf, sign_in, text

PERSIAN_MAX = str(MAX_SAFE_INTEGER).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
ANSWERS = ["9" * 4301, "۹" * 4301, "1," + ",".join(["000"] * 1500), "4" * 4000, str(MAX_SAFE_INTEGER + 1)]


@pytest.fixture
def without_maximum(runtime: Runtime, tmp_path: Path) -> None:
    """The business licence, deployed with no `maximum` on the floor area."""
    service = tmp_path / "processes" / "business_licence"
    shutil.copytree(ROOT / "processes" / "business_licence", service)
    schema = json.loads((service / "apply.schema.json").read_text(encoding="utf-8"))
    del schema["properties"]["area_m2"]["maximum"]
    (service / "apply.schema.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    deploy_catalogue(runtime, tmp_path / "processes")


def _area_page(client: TestClient, runtime: Runtime) -> tuple[str, str]:
    """Sign in, start the licence and answer up to the floor-area question: its URL and page."""
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    page = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    base = str(page.url).rsplit("/pages/", 1)[0]
    for number, answer in enumerate(({"business_name": "کافه پنجره"}, {"activity": "food"})):
        page = client.post(f"{base}/pages/{number}", data={"csrf_token": csrf(page.text), **answer})
    return f"{base}/pages/2", page.text


def _drafted_areas(runtime: Runtime) -> list[object]:
    """The floor areas kept in drafts (the earlier pages' answers are kept in the same draft)."""
    with runtime.reading() as session:
        return [draft.data["area_m2"] for draft in session.execute(select(Draft)).scalars() if "area_m2" in draft.data]


def test_the_portal_refuses_a_number_of_any_length_in_both_languages(client: TestClient, runtime: Runtime,
                                                                     without_maximum: None) -> None:
    url, page = _area_page(client, runtime)
    for answer in ANSWERS:
        refused = client.post(url, data={"csrf_token": csrf(page), "area_m2": answer})
        assert refused.status_code == 422, (len(answer), refused.status_code, refused.text[:300])
        assert 'href="#f-area_m2"' in refused.text and PERSIAN_MAX in text(refused.text), text(refused.text)[:500]
    assert _drafted_areas(runtime) == [], "nothing was saved"
    client.get(f"/lang/en?next={url.split('testserver', 1)[1]}")
    refused = client.post(url, data={"csrf_token": csrf(page), "area_m2": ANSWERS[0]})
    assert refused.status_code == 422 and str(MAX_SAFE_INTEGER) in text(refused.text), text(refused.text)[:500]
    kept = client.post(url, data={"csrf_token": csrf(page), "area_m2": "۴۵"})
    assert "/pages/3" in str(kept.url) and _drafted_areas(runtime) == ["۴۵"]


def test_the_portal_refuses_it_where_the_form_has_a_maximum_too(client: TestClient, runtime: Runtime) -> None:
    deploy_catalogue(runtime, ROOT / "processes")
    url, page = _area_page(client, runtime)
    for answer in ANSWERS:
        refused = client.post(url, data={"csrf_token": csrf(page), "area_m2": answer})
        assert refused.status_code == 422, (len(answer), refused.status_code, refused.text[:300])
        assert PERSIAN_MAX in text(refused.text)
    assert _drafted_areas(runtime) == []


def test_the_api_refuses_it_too(client: TestClient, runtime: Runtime, tokens: Tokens,
                                without_maximum: None) -> None:
    citizen = tokens.headers("citizen")
    started = client.post("/api/v1/processes/business_licence/instances", json={"data": {}}, headers=citizen)
    assert started.status_code == 201, started.text
    [task] = client.get("/api/v1/tasks", params={"instance_id": started.json()["id"]}, headers=citizen).json()
    for area in [*ANSWERS, 1e300, -1e20, 2.0**60]:
        refused = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
            "business_name": "کافه پنجره", "activity": "food", "area_m2": area}}, headers=citizen)
        assert refused.status_code == 422, (area if isinstance(area, float) else len(area), refused.text[:300])
        assert any(e["field"] == "area_m2" and str(MAX_SAFE_INTEGER) in e["message"]
                   for e in refused.json()["errors"]), refused.text[:500]
    with runtime.reading() as session:
        instance = session.get(Instance, started.json()["id"])
        assert instance is not None and "area_m2" not in instance.data
