"""Every form of the portal, the staff inbox and the analyst console refuses answers with a character
no database keeps (NUL) with the field's own message, on SQLite and PostgreSQL: never a 500, never a
draft or a completion that the database would refuse."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import Draft, HumanTaskRow
from engine.services.runtime import Runtime
from tests.fixtures import ADMIN_TOKEN, Tokens
from tests.web.journey import CITIZEN, MOBILE, PDF, ask_code, challenge_of, csrf, ready_catalogue, sign_in, text

NOT_KEPT = "نویسه‌ای دارد که نمی‌توان ذخیره کرد"


def _page(response: object, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:500])  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    return str(response.text)  # type: ignore[attr-defined]


def test_a_question_answered_with_nul_is_refused_and_not_saved(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    first = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    base = str(first.url).rsplit("/pages/", 1)[0]
    refused = _page(client.post(f"{base}/pages/0", data={"csrf_token": csrf(first.text),
                                                          "business_name": "نان\x00سنگک"}), 422)
    assert 'href="#f-business_name"' in refused and NOT_KEPT in text(refused)
    with runtime.reading() as session:
        assert session.execute(select(Draft)).first() is None, "nothing was saved"
    kept = client.post(f"{base}/pages/0", data={"csrf_token": csrf(first.text), "business_name": "نان سنگک"})
    assert "/pages/1" in str(kept.url)


def test_a_staff_answer_with_nul_is_refused_and_the_task_stays(client: TestClient, runtime: Runtime,
                                                               tokens: Tokens) -> None:
    from tests.web.test_portal import _apply

    _apply(client, runtime)
    staff = TestClient(client.app)
    page = staff.get("/staff/sign-in")
    staff.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": tokens.staff_municipality})
    link = re.search(r'href="(/staff/tasks/[0-9a-f-]+)"', staff.get("/staff").text)
    assert link
    task = staff.get(link.group(1))
    refused = _page(staff.post(link.group(1), data={"csrf_token": csrf(task.text), "inspection_passed": "true",
                                                    "inspection_note": "همه\x00چیز درست است"}), 422)
    assert "f-inspection_note" in refused and "contains a character" not in refused and NOT_KEPT in text(refused)
    with runtime.reading() as session:
        statuses = set(session.execute(select(HumanTaskRow.status).where(
            HumanTaskRow.spec_id == "inspect")).scalars())
    assert statuses == {"ready"}


def test_sign_in_and_tracking_forms_refuse_nul_in_every_field(client: TestClient, runtime: Runtime) -> None:
    page = client.get("/sign-in")
    for field in ("national_code", "mobile"):
        answers = {"national_code": CITIZEN, "mobile": MOBILE}
        answers[field] += "\x00"
        refused = _page(client.post("/sign-in", data={"csrf_token": csrf(page.text), **answers, "next": "/cases"}),
                        422)
        assert f"f-{field}" in refused
    code_page = ask_code(client)
    challenge = challenge_of(code_page.text)
    for challenge_value, code in ((challenge[:-1] + "\x00", "123456"), ("\x00" * 36, "123456"),
                                  ("a\x00", "123456"), (challenge, "12\x003456")):
        _page(client.post("/sign-in/code", data={"csrf_token": csrf(code_page.text), "challenge": challenge_value,
                                                 "code": code, "next": "/cases\x00"}), 422)
    track = client.get("/track")
    for answers in ({"tracking_code": "1234\x0056789012", "national_code": CITIZEN},
                    {"tracking_code": "123456789012", "national_code": "\x00" + CITIZEN}):
        _page(client.post("/track", data={"csrf_token": csrf(track.text), **answers}), 422)


def test_key_sign_in_forms_refuse_nul_and_never_redirect_through_it(client: TestClient, tokens: Tokens) -> None:
    for area, token in (("staff", tokens.staff_guild), ("analyst", ADMIN_TOKEN)):
        page = client.get(f"/{area}/sign-in")
        _page(client.post(f"/{area}/sign-in", data={"csrf_token": csrf(page.text), "token": token + "\x00"}), 422)
        signed_in = client.post(f"/{area}/sign-in", follow_redirects=False,
                                data={"csrf_token": csrf(page.text), "token": token, "next": f"/{area}/\x00x"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == f"/{area}", signed_in.headers


def test_a_model_file_named_with_nul_is_reported_not_stored(client: TestClient) -> None:
    page = client.get("/analyst/sign-in")
    client.post("/analyst/sign-in", data={"csrf_token": csrf(page.text), "token": ADMIN_TOKEN})
    home = client.get("/analyst")
    model = (__import__("tests.fixtures", fromlist=["MODELS"]).MODELS / "approval.bpmn").read_bytes()
    boundary = "form-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf(home.text)}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="action"\r\n\r\ndeploy\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="appro\x00val.bpmn"\r\n'
            "Content-Type: text/xml\r\n\r\n").encode() + model + f"\r\n--{boundary}--\r\n".encode()
    refused = client.post("/analyst/uploads", content=body,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert refused.status_code < 500, refused.text[:300]
    assert refused.status_code == 422 and "control characters" in text(refused.text)


def test_a_document_whose_name_has_nul_is_refused_on_its_question(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    page = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    base = str(page.url).rsplit("/pages/", 1)[0]
    for number, answer in enumerate(({"business_name": "کافه پنجره"}, {"activity": "food"}, {"area_m2": "60"})):
        page = client.post(f"{base}/pages/{number}", data={"csrf_token": csrf(page.text), **answer})
    boundary = "form-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf(page.text)}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="premises_document"; filename="lease\x00.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n").encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    refused = _page(client.post(f"{base}/pages/3", content=body,
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}), 422)
    assert 'href="#f-premises_document"' in refused and "نام فایل را نمی‌توان به کار برد" in text(refused)
