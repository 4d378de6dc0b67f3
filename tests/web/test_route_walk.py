"""Every HTML route, walked with every kind of visitor, as tests/api/test_access.py does for the API.

The routes come from the application itself (those hidden from OpenAPI included), so a new page
is walked as soon as it exists, and one that does not declare its audience fails here. What each
visitor should meet is declared below, apart from the code that decides it: who belongs to each
audience, and who may see each object a path names. Another citizen's case, task and document
ids are tried too.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from tests.api.test_deploy_and_run import ready_tasks
from tests.fixtures import ADMIN_TOKEN, Tokens, model_files
from tests.licences import approved_licence
from tests.payments.gateway import pay
from tests.web.journey import CITIZEN, PDF, csrf, ready_catalogue, sign_in

OTHER_CITIZEN, OTHER_MOBILE = "9876543210", "09351234567"
VISITORS = ("anonymous", "citizen", "other_citizen", "staff_municipality", "staff_guild", "analyst", "admin")
EVERYONE = frozenset(VISITORS)
# Who may open the pages of each audience a route can declare.
AUDIENCES = {
    "anyone": EVERYONE,
    "development": EVERYONE,  # on a development server; see the production check below
    "citizen": frozenset({"citizen", "other_citizen"}),
    "staff": frozenset({"staff_municipality", "staff_guild"}),
    "console": frozenset({"analyst", "admin"}),
}
# Where a visitor outside the audience is sent.
SIGN_IN = {"citizen": "/sign-in", "staff": "/staff/sign-in", "console": "/analyst/sign-in"}
# Routes that are not HTML pages: the JSON API (walked by tests/api), its documentation, files.
NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/static", "/sandbox")


@dataclass
class World:
    """One citizen's cases at three stages, another citizen's document, a staged model, a deployment."""

    submitted_case: str      # the citizen applied and paid; the municipality inspects now
    inspection: str          # that inspection task
    lease: str               # the document the citizen gave in that case
    open_case: str           # another case of the same citizen, waiting for their application
    application: str         # its application task
    others_upload: str       # a document the other citizen uploaded and never gave in a case
    staged: str              # files the analyst checked in the console
    deployment: int
    approved_case: str       # a third case of the citizen, approved by the guild union (not inspected)
    licence: str             # the licence that case issued


def _viewers(world: World, path: str) -> list[tuple[str, str, frozenset[str]]]:
    """Each path parameter of `path`: its value in the world and who may see what it names."""
    citizen_page = path.startswith("/cases/")
    table: dict[str, tuple[str, frozenset[str]]] = {
        "key": ("business_licence", EVERYONE),
        "code": ("en", EVERYONE),
        "number": ("0", EVERYONE),
        "instance_id": (world.approved_case if "{document_id}" in path else world.open_case, frozenset({"citizen"})),
        # The issuing agency reads the licence; the municipality had no part in that case.
        "document_id": (world.licence, frozenset({"citizen"}) if citizen_page else frozenset({"staff_guild"})),
        "task_id": ((world.application, frozenset({"citizen"})) if citizen_page
                    else (world.inspection, frozenset({"staff_municipality"}))),
        "upload_id": (world.lease, frozenset({"staff_municipality"})),
        "staging_id": (world.staged, frozenset({"analyst"})),
        "deployment_id": (str(world.deployment), frozenset({"analyst", "admin"})),
    }
    found = []
    for name in re.findall(r"{(\w+)}", path):
        assert name in table, f"say what {path} should be walked with: a value for {{{name}}} and who may see it"
        found.append((name, *table[name]))
    return found


def _api_token(runtime: Runtime, national_code: str) -> dict[str, str]:
    with runtime.unit_of_work() as session:
        return {"Authorization": f"Bearer {create_token(session, 'citizen', national_code)}"}


def _wait_for_task(client: TestClient, tokens: Tokens, case: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while not (ready := ready_tasks(client, tokens, case, role="admin")):
        assert time.monotonic() < deadline, "no task came"
        time.sleep(0.05)
    return ready[0]


def _build(client: TestClient, runtime: Runtime, tokens: Tokens) -> World:
    ready_catalogue(runtime)
    mine, theirs = _api_token(runtime, CITIZEN), _api_token(runtime, OTHER_CITIZEN)
    cases = [client.post("/api/v1/processes/business_licence/instances", json={"data": {}}, headers=mine).json()["id"]
             for _ in range(2)]
    apply = _wait_for_task(client, tokens, cases[0])
    lease = client.post("/api/v1/uploads", files={"file": ("lease.pdf", PDF, "application/pdf")}, headers=mine)
    assert client.post(f"/api/v1/tasks/{apply['id']}/complete", headers=mine, json={"data": {
        "business_name": "نان سنگک", "activity": "food", "area_m2": 40,
        "premises_document": lease.json()["id"]}}).status_code == 200
    assert pay(client, mine, cases[0]).status_code == 200
    [inspection] = ready_tasks(client, tokens, cases[0], role="staff_municipality")
    others = client.post("/api/v1/uploads", files={"file": ("deed.pdf", PDF, "application/pdf")}, headers=theirs)
    analyst = _signed_in(client, "analyst", tokens)
    checked = analyst.post("/analyst/uploads", files=model_files("approval.bpmn"),
                           data={"csrf_token": csrf(analyst.get("/analyst").text), "action": "check"},
                           follow_redirects=False)
    assert checked.status_code == 303, checked.text
    deployments = client.get("/api/v1/deployments", headers=tokens.headers("analyst")).json()
    approved, licence = approved_licence(client, runtime, tokens, citizen=mine)
    return World(submitted_case=cases[0], inspection=inspection["id"], lease=lease.json()["id"],
                 open_case=cases[1], application=_wait_for_task(client, tokens, cases[1])["id"],
                 others_upload=others.json()["id"], staged=checked.headers["location"].rsplit("/", 1)[1],
                 deployment=deployments[0]["id"], approved_case=approved, licence=licence["id"])


def _signed_in(client: TestClient, visitor: str, tokens: Tokens) -> TestClient:
    """A browser of `visitor`, signed in the way that visitor signs in."""
    browser = TestClient(client.app)
    if visitor in ("staff_municipality", "staff_guild", "analyst", "admin"):
        area = "staff" if visitor.startswith("staff") else "analyst"
        token = ADMIN_TOKEN if visitor == "admin" else getattr(tokens, visitor)
        page = browser.get(f"/{area}/sign-in")
        assert browser.post(f"/{area}/sign-in", data={"csrf_token": csrf(page.text), "token": token}).status_code == 200
    else:
        browser.get("/track")
    return browser


@dataclass
class Visitor:
    cookies: dict[str, str]
    csrf: str


def _visitors(client: TestClient, runtime: Runtime, tokens: Tokens) -> dict[str, Visitor]:
    found = {}
    for name in VISITORS:
        if name == "citizen":
            browser = TestClient(client.app)
            sign_in(browser, runtime)
        elif name == "other_citizen":
            browser = TestClient(client.app)
            sign_in(browser, runtime, OTHER_CITIZEN, OTHER_MOBILE)
        else:
            browser = _signed_in(client, name, tokens)
        found[name] = Visitor(dict(browser.cookies.items()), csrf(browser.get("/track").text))
    return found


def _visit(client: TestClient, visitor: Visitor, method: str, url: str) -> Any:
    browser = TestClient(client.app, cookies=visitor.cookies, follow_redirects=False)
    if method == "POST":
        return browser.post(url, data={"csrf_token": visitor.csrf})
    return browser.request(method, url)


def _judge(response: Any, expected: str, audience: str, what: str) -> None:
    location = response.headers.get("location", "")
    to_sign_in = response.status_code == 303 and urlsplit(location).path in SIGN_IN.values()
    if expected == "sign-in":
        assert to_sign_in and urlsplit(location).path == SIGN_IN[audience], (
            f"{what}: expected the {audience} sign-in page, got {response.status_code} {location}")
    elif expected == "not-found":
        assert response.status_code == 404, f"{what}: expected 404, got {response.status_code} {location}"
    else:
        assert response.status_code < 500 and response.status_code not in (401, 403, 404) and not to_sign_in, (
            f"{what}: refused with {response.status_code} {location}")


@dataclass(frozen=True)
class Page:
    path: str
    methods: frozenset[str]
    audience: str | None


def _pages(client: TestClient) -> list[Page]:
    """Every route the application answers that is an HTML page, as the application resolves them."""
    pages = []
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and not path.startswith(NOT_PAGES):
            pages.append(Page(path, frozenset(route.methods), (route.openapi_extra or {}).get("x-audience")))
        else:
            assert isinstance(route, APIRoute | Mount | Route) and path.startswith(NOT_PAGES), (
                f"{path}: a route the walk does not know how to judge")
    return pages


def test_every_page_declares_its_audience(client: TestClient) -> None:
    pages = _pages(client)
    assert len(pages) >= 25
    for page in pages:
        assert page.audience in AUDIENCES, f"{sorted(page.methods)} {page.path} declares no audience"


def test_every_page_with_every_visitor(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    world = _build(client, runtime, tokens)
    visitors = _visitors(client, runtime, tokens)
    # Reads first, then forms: a form that works (completing the inspection, deploying the
    # staged files) changes what later visitors may see.
    walk = sorted(((method, page) for page in _pages(client) for method in page.methods),
                  key=lambda pair: pair[0] != "GET")
    checked = 0
    for method, page in walk:
        audience = str(page.audience)
        url, viewers = page.path, _viewers(world, page.path)
        for name, value, _ in viewers:
            url = url.replace("{" + name + "}", value)
        for visitor in VISITORS:
            if visitor not in AUDIENCES[audience]:
                expected = "sign-in"
            elif any(visitor not in allowed for _, _, allowed in viewers):
                expected = "not-found"
            else:
                expected = "allowed"
            response = _visit(client, visitors[visitor], method, url)
            _judge(response, expected, audience, f"{method} {url} as {visitor}")
            checked += 1
    assert checked >= 25 * len(VISITORS)


# Ids that exist, but name something of someone else: each is refused as if it did not.
FOREIGN_IDS = [
    ("staff_municipality", "GET", "/staff/tasks/{application}"),
    ("staff_municipality", "POST", "/staff/tasks/{application}"),
    ("staff_guild", "GET", "/staff/tasks/{inspection}"),
    ("staff_municipality", "GET", "/staff/uploads/{others_upload}"),
    ("staff_guild", "GET", "/staff/uploads/{others_upload}"),
    ("staff_guild", "GET", "/staff/uploads/{lease}"),
    ("citizen", "GET", "/cases/{submitted_case}/tasks/{application}/pages/0"),
    ("citizen", "POST", "/cases/{submitted_case}/tasks/{application}/pages/0"),
    ("citizen", "POST", "/cases/{submitted_case}/tasks/{application}/check"),
    ("other_citizen", "GET", "/cases/{submitted_case}"),
    ("other_citizen", "POST", "/cases/{submitted_case}/pay"),
    ("other_citizen", "GET", "/cases/{open_case}/next"),
    ("other_citizen", "POST", "/cases/{open_case}/tasks/{application}/check"),
    ("other_citizen", "GET", "/cases/{open_case}/delete"),
    ("other_citizen", "POST", "/cases/{open_case}/delete"),
    ("other_citizen", "GET", "/cases/{submitted_case}/withdraw"),
    ("other_citizen", "POST", "/cases/{submitted_case}/withdraw"),
    ("other_citizen", "GET", "/cases/{approved_case}/documents/{licence}"),
    ("citizen", "GET", "/cases/{open_case}/documents/{licence}"),  # the citizen's, but of another case
    ("staff_municipality", "GET", "/staff/documents/{licence}"),
    ("admin", "POST", "/analyst/uploads/{staged}/deploy"),
]


def test_ids_of_other_peoples_things_are_not_found(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    world = _build(client, runtime, tokens)
    visitors = _visitors(client, runtime, tokens)
    for visitor, method, path in FOREIGN_IDS:
        url = path.format(**vars(world))
        assert _visit(client, visitors[visitor], method, url).status_code == 404, f"{method} {url} as {visitor}"
    [application] = ready_tasks(client, tokens, world.open_case, role="admin")
    assert application["id"] == world.application, "nothing was completed by someone else"


def test_development_pages_are_not_found_on_a_production_server(client: TestClient, runtime: Runtime,
                                                                 tokens: Tokens) -> None:
    visitors = _visitors(client, runtime, tokens)
    runtime.settings.environment = "production"
    development = [page.path for page in _pages(client) if page.audience == "development"]
    assert development
    for path in development:
        for visitor in VISITORS:
            assert _visit(client, visitors[visitor], "GET", path).status_code == 404, f"{path} as {visitor}"


# What an address may carry that no database column keeps or compares: NUL, a lone surrogate
# (as an attacker would send one: its UTF-8-style bytes, which the server decodes), and integers
# past PostgreSQL's integer and past 64 bits.
NUL, SURROGATE = "%00", "%ED%A0%80"
HUGE = (str(2**31), str(2**63), str(-(2**63) - 1))


def _integer_path_parameters(client: TestClient) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if isinstance(route, APIRoute):
            found[context.path or ""] = {p.alias for p in route.dependant.path_params
                                         if p.field_info.annotation is int}
    return found


def test_every_page_refuses_what_no_database_keeps_in_its_path(client: TestClient, runtime: Runtime,
                                                               tokens: Tokens) -> None:
    world = _build(client, runtime, tokens)
    visitors = _visitors(client, runtime, tokens)
    integers = _integer_path_parameters(client)
    assert any(integers.values()), "a page with an integer in its path"
    checked = 0
    for page in _pages(client):
        names = re.findall(r"{(\w+)}", page.path)
        for target in names:
            for value in (f"a{NUL}b", NUL, f"x{SURROGATE}", *HUGE):
                url = page.path
                for name, good, _ in _viewers(world, page.path):
                    url = url.replace("{" + name + "}", value if name == target else good)
                for method in page.methods:
                    for visitor in VISITORS:
                        response = _visit(client, visitors[visitor], method, url)
                        what = f"{method} {url} as {visitor}"
                        assert response.status_code < 500, f"{what}: {response.status_code}"
                        if NUL in value or (value in HUGE and target in integers[page.path]):
                            assert response.status_code == 404, f"{what}: {response.status_code}"
                            assert "text/html" in response.headers["content-type"], what
                        checked += 1
    assert checked >= 200


def test_every_page_refuses_what_no_database_keeps_in_its_query(client: TestClient, runtime: Runtime,
                                                                tokens: Tokens) -> None:
    world = _build(client, runtime, tokens)
    visitors = _visitors(client, runtime, tokens)
    checked = 0
    for page in _pages(client):
        url = page.path
        for name, good, _ in _viewers(world, page.path):
            url = url.replace("{" + name + "}", good)
        for query in (f"next=a{NUL}b", f"x={NUL}", f"{NUL}=1", "submitted=" + HUGE[0], "status=" + NUL,
                      f"q=x{SURROGATE}"):
            for method in page.methods:
                for visitor in VISITORS:
                    response = _visit(client, visitors[visitor], method, f"{url}?{query}")
                    what = f"{method} {url}?{query} as {visitor}"
                    assert response.status_code < 500, f"{what}: {response.status_code}"
                    if NUL in query:
                        assert response.status_code == 400, f"{what}: {response.status_code}"
                        assert "text/html" in response.headers["content-type"], what
                    checked += 1
    assert checked >= 100


def test_a_second_citizen_walks_only_their_own_step(client: TestClient, runtime: Runtime) -> None:
    """The seller of a vehicle (the other citizen, whom the registry names as its owner) finds the
    buyer's case waiting for them, is texted, opens only their step, and nothing the buyer owns."""
    from sqlalchemy import select

    from engine.db.models import Notification
    from tests.api.test_access import transfer_waiting_for_the_seller

    seller, buyer = TestClient(client.app), TestClient(client.app)
    sign_in(seller, runtime, OTHER_CITIZEN, OTHER_MOBILE)
    sign_in(buyer, runtime)
    case, consent = transfer_waiting_for_the_seller(client, runtime, _api_token(runtime, CITIZEN))
    with runtime.reading() as session:
        texts = session.execute(select(Notification.body).where(Notification.recipient == OTHER_MOBILE,
                                                                Notification.key.like("%:party:%"))).scalars().all()
    assert len(texts) == 1 and "منتظر پاسخ شماست" in texts[0]

    listed = seller.get("/cases")
    assert f"/cases/{case}" in listed.text
    page = seller.get(f"/cases/{case}")
    assert page.status_code == 200 and f"/cases/{case}/tasks/{consent['id']}/pages/0" in page.text
    assert "فقط مراحل مربوط به شما" in page.text and f"/cases/{case}/withdraw" not in page.text
    # Whose data was used for the case is the buyer's to read, not the seller's.
    assert "چه کسی از اطلاعات شما استفاده کرد" not in page.text
    assert "چه کسی از اطلاعات شما استفاده کرد" in buyer.get(f"/cases/{case}").text
    to_task = seller.get(f"/cases/{case}/next", follow_redirects=False)
    assert to_task.status_code == 303 and to_task.headers["location"].endswith(f"/tasks/{consent['id']}/pages/0")
    form = seller.get(f"/cases/{case}/tasks/{consent['id']}/pages/0")
    assert form.status_code == 200 and "مریم حسینی" in form.text and "کد پستی" not in form.text
    for method, path in (("GET", f"/cases/{case}/withdraw"), ("POST", f"/cases/{case}/withdraw"),
                         ("POST", f"/cases/{case}/pay"), ("GET", f"/cases/{case}/delete")):
        refused = seller.request(method, path, data={"csrf_token": csrf(page.text)} if method == "POST" else None)
        assert refused.status_code == 404, f"{method} {path} as the seller: {refused.status_code}"

    # The buyer follows the case, and is told the step waits for the other party, not for them.
    own = buyer.get(f"/cases/{case}")
    assert own.status_code == 200 and "طرف دیگر پرونده" in own.text
    assert f"/tasks/{consent['id']}/pages/0" not in own.text
    assert buyer.get(f"/cases/{case}/tasks/{consent['id']}/pages/0").status_code == 404
