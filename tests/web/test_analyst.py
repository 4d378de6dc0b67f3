"""The analyst console, walked without JavaScript: sign in with a key, upload, read the report, deploy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.core.report import ElementEntry, FileInfo, Report
from engine.db.models import Deployment
from engine.services.deployments import UploadedFile, check
from engine.services.runtime import Runtime
from engine.web.analyst import report_view
from engine.web.i18n import translator
from engine.web.page_context import environment
from engine.web.session import LANG_COOKIE
from tests.fixtures import ROOT, Tokens
from tests.web.journey import csrf, text

SERVICE = ROOT / "processes" / "business_licence"
MODEL_SUFFIXES = (".bpmn", ".dmn", ".json")
BROKEN_CONDITION = 'review_outcome == "approve"'

Files = list[tuple[str, tuple[str, bytes, str]]]


def service_files(replace: tuple[str, str] | None = None) -> Files:
    """The business licence service's model files, as a browser posts them; `replace` edits the BPMN."""
    entries = []
    for path in sorted(SERVICE.iterdir()):
        if path.suffix not in MODEL_SUFFIXES:
            continue
        content = path.read_bytes()
        if replace and path.suffix == ".bpmn":
            assert replace[0].encode() in content
            content = content.replace(replace[0].encode(), replace[1].encode())
        entries.append(("files", (path.name, content, "application/octet-stream")))
    return entries


def broken_line() -> int:
    """The line of business_licence.bpmn whose condition the bad upload breaks."""
    lines = (SERVICE / "business_licence.bpmn").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if BROKEN_CONDITION in line)


def signed_in(client: TestClient, token: str) -> str:
    """Sign in on the analyst sign-in page; returns the console's HTML."""
    form = client.get("/analyst/sign-in")
    console = client.post("/analyst/sign-in", data={"csrf_token": csrf(form.text), "token": token})
    assert console.status_code == 200 and str(console.url).endswith("/analyst"), console.text
    return console.text


def deployment_count(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return session.execute(select(func.count(Deployment.id))).scalar_one()


def hand_built_report() -> Report:
    report = Report(files=[FileInfo("permit.bpmn", "bpmn", "camunda7", "Camunda Modeler", "5.20.0", True)])
    report.error("condition 'x ==': invalid syntax", "permit.bpmn", "flow_bad", 12)
    report.warning("no connector is bound", "permit.bpmn", "lookup", 30)
    report.elements = [
        ElementEntry("permit.bpmn", "start", "startEvent", "Start", 5),
        ElementEntry("permit.bpmn", "review", "userTask", "Review the permit", 9, "translated",
                     ["camunda:formData carried over as a form"]),
        ElementEntry("permit.bpmn", "lookup", "serviceTask", "", 30, "needs attention", ["bind a connector"]),
        ElementEntry("permit.bpmn", "flow_bad", "sequenceFlow", "", 12, "unsupported", ["invalid syntax"]),
    ]
    return report


def render_report(lang: str, report: Report, status: str | None = None) -> str:
    body = environment().from_string(
        '{% from "analyst_macros.html" import report_body with context %}{{ report_body(report, "/r") }}')
    return body.render(t=translator(lang), report=report_view(report.as_dict(), [("permit.bpmn", ".bpmn")], status))


def test_report_shows_summary_problems_and_every_element() -> None:
    html = render_report("en", hand_built_report())
    shown = text(html)
    assert "cannot be deployed" in shown and "1 errors and 1 warnings" in shown
    assert "camunda7" in shown and "Camunda Modeler 5.20.0" in shown
    assert shown.index("Errors (1)") < shown.index("invalid syntax") < shown.index("Warnings (1)")
    assert "line 12" in shown and "flow_bad" in shown
    for element_id in ("start", "review", "lookup", "flow_bad"):
        assert f'<code dir="ltr">{element_id}</code>' in html
    # The status is a word on the badge; the colour class only repeats it.
    assert '<span class="badge badge-needs-attention">Needs attention</span>' in html
    assert '<span class="badge badge-translated">Translated</span>' in html
    assert "camunda:formData carried over as a form" in shown
    assert '<th scope="col">' in html and '<th scope="row">' in html and "<caption" in html
    assert 'href="/r?status=unsupported#elements"' in html
    assert "[analyst." not in html


def test_report_filter_shows_only_one_status_in_persian() -> None:
    html = render_report("fa", hand_built_report(), status="unsupported")
    rows = re.findall(r'<code dir="ltr">([a-z_]+)</code></th>', html)
    assert rows == ["flow_bad"]
    assert "پشتیبانی نمی‌شود" in html and "خط ۱۲" in html
    assert re.search(r'href="/r\?status=unsupported#elements" aria-current="page"', html)
    assert "[analyst." not in html


def test_report_without_elements_says_so() -> None:
    report = Report()
    shown = text(render_report("en", report))
    assert "can be deployed" in shown and "No problems were found" in shown
    assert "The report lists no elements" in shown and "permit.bpmn" in shown


def test_sign_in_needs_an_analyst_or_admin_key(client: TestClient, tokens: Tokens) -> None:
    first = client.get("/analyst")
    assert str(first.url).endswith("/analyst/sign-in") and 'name="token"' in first.text
    for refused in ("", "pj_not-a-key", tokens.citizen, tokens.staff_guild):
        answer = client.post("/analyst/sign-in", data={"csrf_token": csrf(first.text), "token": refused})
        assert answer.status_code == 422, refused
        assert "کلید تحلیلگر یا مدیر سامانه نیست" in answer.text and 'href="#f-token"' in answer.text
    assert str(client.get("/analyst").url).endswith("/analyst/sign-in")
    for token in (tokens.analyst, tokens.admin):
        console = signed_in(TestClient(client.app), token)
        assert 'enctype="multipart/form-data"' in console and 'value="check"' in console and 'value="deploy"' in console


def test_staff_signed_in_are_sent_to_the_analyst_sign_in(client: TestClient, tokens: Tokens) -> None:
    page = client.get("/staff/sign-in")
    client.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": tokens.staff_guild})
    assert str(client.get("/staff").url).endswith("/staff")
    assert "/analyst/sign-in" in str(client.get("/analyst").url)
    assert "/analyst/sign-in?next=" in str(client.get("/analyst/deployments/1").url)


def test_check_then_deploy_a_good_upload(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    console = signed_in(client, tokens.analyst)
    before = deployment_count(runtime)
    checked = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "check"},
                          files=service_files())
    assert checked.status_code == 200 and "/analyst/uploads/" in str(checked.url)
    shown = text(checked.text)
    assert "این پرونده‌ها را می‌توان مستقر کرد" in shown
    assert "business_licence.bpmn" in shown and "licence_fee.dmn" in shown
    _, expected = check([UploadedFile(p.name, p.read_bytes()) for p in sorted(SERVICE.iterdir())
                         if p.suffix in MODEL_SUFFIXES], runtime.settings, runtime.connectors)
    if expected.elements:
        for element in expected.elements:
            assert f'<code dir="ltr">{element.element_id}</code>' in checked.text
    else:
        assert "گزارش برای این پرونده‌ها عنصری فهرست نکرده است" in shown
    assert deployment_count(runtime) == before, "checking stores nothing"

    filtered = client.get(str(checked.url), params={"status": "executes"})
    assert filtered.status_code == 200
    deployed = client.post(f"{checked.url}/deploy", data={"csrf_token": csrf(checked.text)})
    assert deployed.status_code == 200 and "deployed=new" in str(deployed.url)
    with runtime.reading() as session:
        newest = session.execute(select(Deployment).order_by(Deployment.id.desc())).scalars().first()
    assert newest is not None and newest.deployed_by == "analyst:analyst-1"
    assert f"با شماره استقرار {translator('fa').digits(newest.id)} مستقر شد" in text(deployed.text)
    assert "business_licence" in deployed.text and "apply.schema.json" in deployed.text
    assert client.get(str(checked.url)).status_code == 404, "deployed files are not kept"

    listed = client.get("/analyst")
    assert f'href="/analyst/deployments/{newest.id}"' in listed.text
    assert "business_licence" in listed.text and "analyst:analyst-1" in listed.text

    again = client.post("/analyst/uploads", data={"csrf_token": csrf(listed.text), "action": "deploy"},
                        files=service_files())
    assert "deployed=existing" in str(again.url) and deployment_count(runtime) == before + 1


def test_a_bad_upload_shows_the_error_line_and_cannot_deploy(client: TestClient, runtime: Runtime,
                                                             tokens: Tokens) -> None:
    client.cookies.set(LANG_COOKIE, "en")
    console = signed_in(client, tokens.analyst)
    bad = service_files((BROKEN_CONDITION, "review_outcome =="))
    checked = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "check"}, files=bad)
    assert checked.status_code == 200
    shown = text(checked.text)
    assert 'lang="en" dir="ltr"' in checked.text
    assert "cannot be deployed until the errors below are fixed" in shown
    assert f"line {broken_line()}" in shown and "f_approved" in shown
    assert "/deploy" not in checked.text, "no deploy button for files that cannot deploy"

    before = deployment_count(runtime)
    refused = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "deploy"}, files=bad)
    assert refused.status_code == 422
    assert "Nothing was deployed" in text(refused.text) and f"line {broken_line()}" in text(refused.text)
    assert deployment_count(runtime) == before


def test_forms_without_the_csrf_token_are_refused(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    console = signed_in(client, tokens.analyst)
    before = deployment_count(runtime)
    refused = client.post("/analyst/uploads", data={"action": "deploy"}, files=service_files())
    assert refused.status_code == 403
    checked = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "check"},
                          files=service_files())
    forged = client.post(f"{checked.url}/deploy", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert deployment_count(runtime) == before


def test_upload_limits_are_explained(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    client.cookies.set(LANG_COOKIE, "en")
    console = signed_in(client, tokens.analyst)
    limit = runtime.settings.max_upload_bytes
    huge = [("files", ("huge2.bpmn", b"<" + b" " * limit, "application/octet-stream"))]
    too_large = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "check"}, files=huge)
    assert too_large.status_code == 413
    assert f"The file “huge2.bpmn” is larger than {limit / 1024 / 1024:g} MB" in text(too_large.text)
    assert 'href="#f-files"' in too_large.text and 'aria-describedby="f-files-hint f-files-error"' in too_large.text
    empty = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "check"},
                        files=[("files", ("", b"", "application/octet-stream"))])
    assert empty.status_code == 422 and "Choose at least one file" in text(empty.text)
    kept = runtime.settings.var_dir / "analyst-uploads"
    assert not kept.exists() or not any(kept.iterdir()), "refused files are not kept"


def test_kept_files_are_only_their_uploaders(client: TestClient, tokens: Tokens) -> None:
    console = signed_in(client, tokens.analyst)
    checked = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "check"},
                          files=service_files())
    other = TestClient(client.app)
    signed_in(other, tokens.admin)
    assert other.get(str(checked.url)).status_code == 404
    for forged in ("..%2F..%2Fpanjereh.db", "short", "A" * 22):
        assert other.get(f"/analyst/uploads/{forged}").status_code == 404


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_a_deployment_page_shows_its_files_and_stored_report(client: TestClient, runtime: Runtime,
                                                              tokens: Tokens, lang: str) -> None:
    if lang != "fa":
        client.cookies.set(LANG_COOKIE, lang)
    t = translator(lang)
    console = signed_in(client, tokens.admin)
    deployed = client.post("/analyst/uploads", data={"csrf_token": csrf(console), "action": "deploy"},
                           files=service_files())
    page = client.get(str(deployed.url).split("?")[0])
    assert page.status_code == 200 and f'lang="{lang}"' in page.text
    shown = text(page.text)
    assert t("analyst.stored_files_title") in shown and t("analyst.report_title") in shown
    assert t("analyst.deployable") in shown and "business_licence.bpmn" in shown
    assert re.search(r'class="process-version">' + t.digits(1) + "<", page.text)
    assert "[analyst." not in page.text
    missing = client.get("/analyst/deployments/9999")
    assert missing.status_code == 404


def test_staged_folder_never_takes_the_clients_name(tmp_path: Path) -> None:
    from engine.security.principals import Principal, Role
    from engine.web.analyst import Staging

    staging = Staging(tmp_path)
    analyst = Principal(Role.ANALYST, "a")
    staging_id = staging.put(analyst, [UploadedFile("../../evil.bpmn", b"<x/>")])
    stored = sorted(p.name for p in (tmp_path / staging_id).iterdir())
    assert stored == ["0", "manifest.json"]
    assert staging.get(analyst, staging_id)[0].content == b"<x/>"
