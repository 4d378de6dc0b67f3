"""The citizen's journey and the staff inbox, server-rendered, walked without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.payments.gateway import pay_in_portal
from tests.web.journey import CITIZEN, PDF, csrf, ready_catalogue, sign_in, text


def test_catalogue_lists_the_service_in_both_languages(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    page = client.get("/")
    assert page.status_code == 200
    assert 'lang="fa" dir="rtl"' in page.text
    assert "صدور پروانه کسب" in page.text and "اتحادیه صنفی" in page.text
    english = client.get("/lang/en?next=/", follow_redirects=True)
    assert 'lang="en" dir="ltr"' in english.text and "Business licence" in english.text
    assert "Guild union" in english.text
    searched = client.get("/", params={"q": "licence"})
    assert "Business licence" in searched.text
    assert "Business licence" not in client.get("/", params={"q": "passport"}).text


def test_full_journey_to_a_tracking_code(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    ready_catalogue(runtime)
    service = client.get("/services/business_licence")
    start = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    assert "/sign-in" in str(start.url)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    first = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    assert first.status_code == 200 and "/pages/0" in str(first.url)
    assert "نام کسب‌وکار چیست؟" in first.text
    evidence = text(first.text)
    assert "علی رضایی" in evidence and "از ثبت احوال" in evidence, "name fetched, not asked"
    assert "خیابان انقلاب" in evidence and "از شرکت ملی پست" in evidence, "address fetched, not asked"
    assert "بدون سوء پیشینه مؤثر" in evidence and "از قوه قضاییه" in evidence, "record fetched, not asked"
    assert "کارت پایان خدمت" in evidence and "از سازمان وظیفه عمومی" in evidence, "service card fetched, not asked"
    base = str(first.url).rsplit("/pages/", 1)[0]

    empty = client.post(f"{base}/pages/0", data={"csrf_token": csrf(first.text), "business_name": ""})
    assert empty.status_code == 422
    assert 'class="error-summary"' in empty.text and 'href="#f-business_name"' in empty.text
    named = client.post(f"{base}/pages/0", data={"csrf_token": csrf(first.text), "business_name": "نان سنگک بربری"})
    assert "/pages/1" in str(named.url)
    chosen = client.post(f"{base}/pages/1", data={"csrf_token": csrf(named.text), "activity": "food"})
    small = client.post(f"{base}/pages/2", data={"csrf_token": csrf(chosen.text), "area_m2": "۳"})
    assert small.status_code == 422
    sized = client.post(f"{base}/pages/2", data={"csrf_token": csrf(chosen.text), "area_m2": "۴۵"})
    assert "/pages/3" in str(sized.url)
    wrong = client.post(f"{base}/pages/3", data={"csrf_token": csrf(sized.text)},
                        files={"premises_document": ("lease.exe", b"MZ\x90\x00", "application/pdf")})
    assert wrong.status_code == 422
    uploaded = client.post(f"{base}/pages/3", data={"csrf_token": csrf(sized.text)},
                           files={"premises_document": ("lease.pdf", PDF, "application/pdf")})
    assert "/check" in str(uploaded.url)
    summary = text(uploaded.text)
    assert "نان سنگک بربری" in summary and "اغذیه و رستوران" in summary and "lease.pdf" in summary
    assert "۴۵" in summary
    sent = client.post(f"{base}/check", data={"csrf_token": csrf(uploaded.text)})
    assert sent.status_code == 200
    code = re.search(r'class="tracking-code"[^>]*>([^<]+)<', sent.text)
    assert code, sent.text
    digits = code.group(1).translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")).replace(" ", "")
    assert len(digits) == 12

    case = text(client.get(str(sent.url).split("?")[0]).text)
    assert "چه کسی از اطلاعات شما استفاده کرد و چرا" in case
    assert "ثبت احوال" in case and "شرکت ملی پست" in case and "صدور پروانه کسب" in case
    assert "قوه قضاییه" in case and "سازمان وظیفه عمومی" in case

    other = TestClient(client.app)
    tracked_page = other.get("/track")
    tracked = other.post("/track", data={"csrf_token": csrf(tracked_page.text), "tracking_code": digits,
                                         "national_code": CITIZEN})
    assert tracked.status_code == 200
    assert "در انتظار: پرداخت هزینه ۴۵۰٬۰۰۰ تومان (۴٬۵۰۰٬۰۰۰ ریال) (شما)" in text(tracked.text)
    wrong_person = other.post("/track", data={"csrf_token": csrf(tracked_page.text), "tracking_code": digits,
                                              "national_code": "0499370899"})
    assert wrong_person.status_code == 404


def test_csrf_is_required(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    client.get("/sign-in")
    refused = client.post("/sign-in", data={"csrf_token": "forged", "national_code": CITIZEN,
                                            "mobile": "09121234567"})
    assert refused.status_code == 403


def test_sign_in_refuses_a_wrong_national_code(client: TestClient, runtime: Runtime) -> None:
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": csrf(page.text), "national_code": "0013542410",
                                              "mobile": "09121234567"})
    assert response.status_code == 422
    assert "کد ملی را درست وارد کنید" in response.text
    assert 'aria-describedby="f-national_code-hint f-national_code-error"' in response.text


def _apply(client: TestClient, runtime: Runtime) -> tuple[str, str]:
    """Sign in, answer every question, upload the lease, submit and pay the fee; the case URL and tracking code."""
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    page = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    base = str(page.url).rsplit("/pages/", 1)[0]
    for number, answer in enumerate(({"business_name": "کافه پنجره"}, {"activity": "food"}, {"area_m2": "60"})):
        page = client.post(f"{base}/pages/{number}", data={"csrf_token": csrf(page.text), **answer})
        assert page.status_code == 200, page.text
    page = client.post(f"{base}/pages/3", data={"csrf_token": csrf(page.text)},
                       files={"premises_document": ("lease.pdf", PDF, "application/pdf")})
    sent = client.post(f"{base}/check", data={"csrf_token": csrf(page.text)})
    code = re.search(r'class="tracking-code"[^>]*>([^<]+)<', sent.text)
    assert code
    case_path = urlsplit(str(sent.url)).path
    assert pay_in_portal(client, case_path).status_code == 200
    return str(sent.url).split("?")[0], code.group(1)


def test_save_and_return(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    first = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    base = str(first.url).rsplit("/pages/", 1)[0]
    client.post(f"{base}/pages/0", data={"csrf_token": csrf(first.text), "business_name": "خیاطی نو"})
    cases = client.get("/cases")
    assert "صدور پروانه کسب" in cases.text
    case_url = re.search(r'href="(/cases/[0-9a-f-]+)"', cases.text).group(1)  # type: ignore[union-attr]
    resumed = client.get(case_url)
    link = re.search(r'href="(/cases/[^"]+/pages/0)"', resumed.text).group(1)  # type: ignore[union-attr]
    again = client.get(link)
    assert 'value="خیاطی نو"' in again.text


def test_staff_work_the_case_and_the_citizen_sees_the_outcome(client: TestClient, runtime: Runtime,
                                                            tokens: Tokens) -> None:
    case_url, _ = _apply(client, runtime)
    staff = TestClient(client.app)
    page = staff.get("/staff/sign-in")
    citizen_key = staff.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": tokens.citizen})
    assert citizen_key.status_code == 422
    staff.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": tokens.staff_municipality})
    inbox = staff.get("/staff")
    assert "بازدید از محل کسب" in inbox.text
    task_link = re.search(r'href="(/staff/tasks/[0-9a-f-]+)"', inbox.text).group(1)  # type: ignore[union-attr]
    task = staff.get(task_link)
    assert "کافه پنجره" in task.text
    done = staff.post(task_link, data={"csrf_token": csrf(task.text), "inspection_passed": "true"})
    assert done.status_code == 200 and "/staff" in str(done.url)

    guild = TestClient(client.app)
    page = guild.get("/staff/sign-in")
    guild.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": tokens.staff_guild})
    inbox = guild.get("/staff")
    task_link = re.search(r'href="(/staff/tasks/[0-9a-f-]+)"', inbox.text).group(1)  # type: ignore[union-attr]
    task = guild.get(task_link)
    # What the registries said is read above the decision, labelled, never a box to fill; what no
    # form names is folded away under its variable's name, in words, never as JSON.
    decide = task.text.split("<h2>تصمیم شما</h2>", 1)
    assert "سوء پیشینه" in text(decide[0]) and "بدون سوء پیشینه مؤثر" in text(decide[0])
    assert 'name="criminal_record_text"' not in decide[1] and 'name="military_service_text"' not in decide[1]
    # The reason is required when refusing, so it is not called optional; the hint says when.
    assert "دلیل رد" in text(decide[1]) and "(اختیاری)" not in text(decide[1])
    assert "اگر رد می‌کنید، دلیل را بنویسید" in text(decide[1])
    other = task.text.split('<details class="other-data">', 1)[1].split("</details>", 1)[0]
    assert "first_name: " in other and "{" not in other and "\\u0" not in task.text
    upload_link = re.search(r'(/staff/uploads/[0-9a-f-]+)', task.text)
    if upload_link:
        document = guild.get(upload_link.group(1))
        assert document.headers["content-type"] == "application/pdf"
        assert document.headers["x-content-type-options"] == "nosniff"
        assert "attachment" in document.headers["content-disposition"]
    refused = guild.post(task_link, data={"csrf_token": csrf(task.text), "review_outcome": "reject"})
    assert refused.status_code == 422
    approved = guild.post(task_link, data={"csrf_token": csrf(task.text), "review_outcome": "approve"})
    assert approved.status_code == 200
    status = client.get(case_url)
    assert "تأیید شد: پروانه کسب شما صادر شد" in status.text


def test_a_document_answer_must_be_an_upload_of_this_case(client: TestClient, runtime: Runtime,
                                                          tokens: Tokens) -> None:
    ready_catalogue(runtime)
    headers = tokens.headers("citizen")
    instance = client.post("/api/v1/processes/business_licence/instances", json={"data": {}}, headers=headers).json()
    [task] = client.get("/api/v1/tasks", params={"instance_id": instance["id"]}, headers=headers).json()
    forged = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json={"data": {
        "business_name": "x" * 5, "activity": "retail", "area_m2": 30,
        "premises_document": "0d6f3c1e-2b8a-4c39-9a7e-5b1f2e3d4c5a"}})
    assert forged.status_code == 422
    assert forged.json()["errors"] == [{"field": "premises_document",
                                        "message": "upload the document first; this is not a file you uploaded"}]


def test_sign_in_code_goes_through_the_sms_gateway(client: TestClient, runtime: Runtime) -> None:
    import httpx

    mobile = "09351234567"
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": csrf(page.text), "national_code": "9876543210",
                                              "mobile": mobile, "next": "/cases"})
    assert response.status_code == 200
    gateway = httpx.get(f"{runtime.settings.public_url}/sandbox/sms/messages", params={"to": mobile},
                        headers={"Authorization": "Bearer sandbox-sms-key"}).json()
    assert gateway["messages"], "the code was not sent through the SMS connector"
    assert re.search(r"[0-9۰-۹]{6}", gateway["messages"][-1]["text"])


def test_sign_in_needs_a_mobile_in_the_citizens_name(client: TestClient, runtime: Runtime) -> None:
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": csrf(page.text), "national_code": "1234567891",
                                              "mobile": "09121234567"})
    assert response.status_code == 422
    assert "این شماره همراه به نام این کد ملی ثبت نشده است" in response.text
