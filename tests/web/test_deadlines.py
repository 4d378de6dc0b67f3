"""The legal deadline on the pages: the citizen sees when the decision is due (Jalali with
Persian digits in Persian, Gregorian in English), the draft shows none, and staff see the due
date in the inbox and on the task, the overdue first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from engine.core.working_calendar import WorkingCalendar, jalali_text
from engine.db.models import HumanTaskRow
from engine.services.catalogue import CatalogueError, read_service
from engine.services.deadlines import deadline_problem, deadline_working_days
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.web.journey import csrf, ready_catalogue, sign_in
from tests.web.test_portal import _apply


def _sent_at(runtime: Runtime) -> datetime:
    with runtime.reading() as session:
        sent = session.execute(select(HumanTaskRow.completed_at).where(HumanTaskRow.audience == "citizen")
                               ).scalar_one()
    assert sent is not None
    return sent


def test_the_citizen_sees_when_the_decision_is_due(client: TestClient, runtime: Runtime) -> None:
    case_url, code = _apply(client, runtime)
    due = WorkingCalendar().add_working_days(_sent_at(runtime), 7)
    page = client.get(case_url)
    assert f"مهلت قانونی تصمیم: تا {jalali_text(due, persian_digits=True)}" in page.text
    assert "۷ روز کاری" in page.text
    client.get("/lang/en")
    english = client.get(case_url)
    local = due.astimezone(UTC) + timedelta(hours=3, minutes=30)
    assert f"Decision due by {local.day} {local:%B %Y}" in english.text

    form = client.get("/track")
    tracked = client.post("/track", data={"csrf_token": csrf(form.text), "tracking_code": code,
                                          "national_code": "0013542419"})
    assert f"Decision due by {local.day} {local:%B %Y}" in tracked.text


def test_a_draft_has_no_due_date(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    sign_in(client, runtime)
    service = client.get("/services/business_licence")
    first = client.post("/services/business_licence/start", data={"csrf_token": csrf(service.text)})
    case_url = str(first.url).rsplit("/tasks/", 1)[0]
    assert "مهلت قانونی" not in client.get(case_url).text


def test_staff_see_due_dates_overdue_first(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    _apply(client, runtime)
    other = TestClient(client.app)
    _apply(other, runtime)
    # The second case was sent a month ago: its deadline has passed.
    with runtime.unit_of_work() as session:
        second = session.execute(select(HumanTaskRow).where(HumanTaskRow.audience == "citizen")
                                 .order_by(HumanTaskRow.completed_at.desc())).scalars().first()
        assert second is not None
        late = second.instance_id
        session.execute(update(HumanTaskRow).where(HumanTaskRow.id == second.id)
                        .values(completed_at=datetime.now(UTC) - timedelta(days=30)))
    staff = TestClient(client.app)
    page = staff.get("/staff/sign-in")
    staff.post("/staff/sign-in", data={"csrf_token": csrf(page.text), "token": tokens.staff_municipality})
    inbox = staff.get("/staff")
    assert "مهلت تصمیم" in inbox.text and "مهلت گذشته" in inbox.text
    links = re.findall(r'href="(/staff/tasks/[0-9a-f-]+)"', inbox.text)
    with runtime.reading() as session:
        first_case = session.execute(select(HumanTaskRow.instance_id)
                                     .where(HumanTaskRow.id == links[0].rsplit("/", 1)[1])).scalar_one()
    assert first_case == late
    task = staff.get(links[0])
    assert "مهلت تصمیم:" in task.text and "مهلت گذشته" in task.text


def test_the_card_deadline_and_its_old_name(tmp_path: Path) -> None:
    assert deadline_working_days({"deadline_working_days": 7}) == 7
    assert deadline_working_days({"duration_days": 5}) == 5
    assert deadline_working_days({}) is None
    assert deadline_problem({"deadline_working_days": 7, "duration_days": 7}) == (
        "write deadline_working_days only (duration_days is its old name)")
    folder = tmp_path / "permit"
    folder.mkdir()
    (folder / "service.toml").write_text('process = "permit"\nagency = "city"\ntitle = { en = "Permit" }\n'
                                         'deadline_working_days = "ten"\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match="deadline_working_days must be a whole number of working days"):
        read_service(folder)


def test_a_card_whose_case_facts_name_no_variable_or_label_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "permit"
    folder.mkdir()
    (folder / "service.toml").write_text(
        'process = "permit"\nagency = "city"\ntitle = { en = "Permit" }\n'
        '[[case_facts]]\nvariable = "appointment text"\nfa = "نوبت"\n'
        '[[case_facts]]\nvariable = "x"\nfa = "ا"\nen = "x"\nlabel = "?"\n', encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        read_service(folder)
    problems = str(refused.value)
    assert "entry 1 needs 'en' (text)" in problems and "entry 1: 'variable' must name a data variable" in problems
    assert "entry 2 has an unknown key 'label'" in problems
