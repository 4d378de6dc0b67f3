"""Issued documents: the approved licence is issued once, numbered in order under concurrency on
SQLite and PostgreSQL, read only by its case's citizen and the staff concerned, and revoked only
by its issuing agency."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, update

from connectors.sdk import ConnectorError
from engine.db.models import DocumentSerial, Instance, IssuedDocument
from engine.services import issued_documents
from engine.services.document_codes import is_well_formed, normalised
from engine.services.issued_documents import IssueParams, IssueResult
from engine.services.runtime import Runtime
from engine.services.tracking import new_tracking_code
from tests.fixtures import Tokens
from tests.forms.pdf_text import lines
from tests.licences import RETAIL, approved_licence

THREADS = 8


def _params(**changes: Any) -> IssueParams:
    given: dict[str, Any] = {"kind": "business_licence", "holder_national_code": "0499370899",
                             "holder_name": "مینا قاسمی", "fields": dict(RETAIL), "valid_years": 5}
    return IssueParams.model_validate({**given, **changes})


def _copies(runtime: Runtime, case: str, count: int) -> list[str]:
    """`count` more cases of the same deployment as `case`, as if other citizens had applied."""
    with runtime.unit_of_work() as session:
        row = session.get(Instance, case)
        assert row is not None
        columns = {c.key: getattr(row, c.key) for c in Instance.__table__.columns}
        made = []
        for _ in range(count):
            made.append(str(uuid.uuid4()))
            session.execute(insert(Instance).values({**columns, "id": made[-1], "tracking_code": new_tracking_code()}))
    return made


def _together(work: list[Any]) -> list[IssueResult]:
    """Run each callable in its own thread, all let go at the same moment."""
    start = Barrier(len(work))

    def run(job: Any) -> IssueResult:
        start.wait()
        result: IssueResult = job()
        return result

    with ThreadPoolExecutor(len(work)) as pool:
        return list(pool.map(run, work))


def test_the_approved_licence_is_issued_with_the_case_s_data(client: TestClient, runtime: Runtime,
                                                            tokens: Tokens) -> None:
    case, licence = approved_licence(client, runtime, tokens)
    assert licence["kind"] == "business_licence" and licence["serial"] == 1 and licence["status"] == "valid"
    assert licence["agency"] == "guild_union" and licence["holder_national_code"] == "0499370899"
    assert licence["title"] == {"fa": "پروانه کسب", "en": "Business licence"}
    assert is_well_formed(normalised(licence["code"])) and len(licence["code"]) == 14
    data = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()["data"]
    assert data["licence"]["document_id"] == licence["id"] and data["licence"]["code"] == normalised(licence["code"])
    pdf = client.get(f"/api/v1/documents/{licence['id']}/pdf", headers=tokens.headers("citizen"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="business_licence-000001.pdf"'
    text = lines(pdf.content)
    for expected in ("پروانه کسب", "اتحادیه صنفی", data["applicant_name"], "۰۴۹۹۳۷۰۸۹۹", "لوازم‌التحریر مهر",
                     "خرده‌فروشی", "۲۵ متر مربع", "۰۰۰۰۰۱", licence["code"]):
        assert expected in text, (expected, text)
    assert any(line.startswith("دارنده این پروانه، " + data["applicant_name"]) for line in text), text
    # Issuing sent nothing to another agency: the case's data-use records are the registry's and the post's.
    uses = client.get(f"/api/v1/instances/{case}/data-use", headers=tokens.headers("citizen")).json()
    assert sorted(use["connector"] for use in uses) == ["civil_registry", "conscription", "judiciary", "payment",
                                                        "post"]


def test_only_the_case_s_citizen_and_the_staff_concerned_read_it(client: TestClient, runtime: Runtime,
                                                                 tokens: Tokens) -> None:
    case, licence = approved_licence(client, runtime, tokens)
    pdf, listing = f"/api/v1/documents/{licence['id']}/pdf", f"/api/v1/instances/{case}/documents"
    for role in ("citizen", "staff_guild", "admin", "analyst"):
        assert client.get(pdf, headers=tokens.headers(role)).status_code == 200, role
        assert [d["id"] for d in client.get(listing, headers=tokens.headers(role)).json()] == [licence["id"]], role
    # Another citizen, and an agency with no part in the case (a small shop is not inspected).
    for role in ("other_citizen", "staff_municipality"):
        assert client.get(pdf, headers=tokens.headers(role)).status_code == 404, role
        assert client.get(listing, headers=tokens.headers(role)).status_code == 404, role


def test_only_the_issuing_agency_revokes_it(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    _, licence = approved_licence(client, runtime, tokens)
    revoke = f"/api/v1/documents/{licence['id']}/revoke"
    reason = {"reason": "پروانه با سند جعلی گرفته شده بود"}
    assert client.post(revoke, json=reason, headers=tokens.headers("citizen")).status_code == 403
    assert client.post(revoke, json=reason, headers=tokens.headers("staff_municipality")).status_code == 404
    revoked = client.post(revoke, json=reason, headers=tokens.headers("staff_guild"))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    assert client.post(revoke, json=reason, headers=tokens.headers("admin")).status_code == 409


def test_issuing_again_finds_the_document_issued(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    """What a retried call does: the operation, called again for the same case, issues nothing new."""
    case, licence = approved_licence(client, runtime, tokens)
    operation = runtime.connectors.get("panjereh/issue_document")
    assert operation is not None
    again = issued_documents.issue(runtime, case, _params())
    assert (again.document_id, again.serial, again.code) == (licence["id"], 1, normalised(licence["code"]))
    with runtime.reading() as session:
        assert session.execute(select(func.count()).select_from(IssuedDocument)).scalar_one() == 1
        assert session.get(DocumentSerial, "business_licence").last == 1  # type: ignore[union-attr]


def test_serials_are_given_once_each_and_in_order_under_concurrency(client: TestClient, runtime: Runtime,
                                                                     tokens: Tokens) -> None:
    case, _ = approved_licence(client, runtime, tokens)
    cases = _copies(runtime, case, THREADS)
    issued = _together([lambda c=c: issued_documents.issue(runtime, c, _params()) for c in cases])
    assert sorted(r.serial for r in issued) == list(range(2, THREADS + 2))
    assert len({r.code for r in issued}) == THREADS
    with runtime.reading() as session:
        stored = session.execute(select(IssuedDocument.serial, IssuedDocument.pdf_sha256)).all()
    assert sorted(serial for serial, _ in stored) == list(range(1, THREADS + 2))
    assert all(digest for _, digest in stored), "every document has its PDF"


def test_one_case_issues_one_document_however_many_attempts_race(client: TestClient, runtime: Runtime,
                                                                  tokens: Tokens) -> None:
    case, _ = approved_licence(client, runtime, tokens)
    [fresh, later] = _copies(runtime, case, 2)
    issued = _together([lambda: issued_documents.issue(runtime, fresh, _params()) for _ in range(THREADS)])
    assert len({(r.document_id, r.serial, r.code) for r in issued}) == 1
    assert issued[0].serial == 2
    with runtime.reading() as session:
        assert session.execute(select(func.count()).select_from(IssuedDocument)
                               .where(IssuedDocument.instance_id == fresh)).scalar_one() == 1
    # The losers' serials were never given: the next case's document follows on.
    assert issued_documents.issue(runtime, later, _params()).serial == 3


def test_a_document_the_service_does_not_declare_is_refused(client: TestClient, runtime: Runtime,
                                                           tokens: Tokens) -> None:
    case, _ = approved_licence(client, runtime, tokens)
    [other] = _copies(runtime, case, 1)
    with pytest.raises(ConnectorError) as undeclared:
        issued_documents.issue(runtime, other, _params(kind="birth_certificate"))
    assert undeclared.value.code == "document-not-declared" and not undeclared.value.retryable
    with pytest.raises(ConnectorError) as unknown_field:
        issued_documents.issue(runtime, other, _params(fields={**RETAIL, "colour": "red"}))
    assert unknown_field.value.code == "document-fields" and "colour" in unknown_field.value.message


def test_a_pdf_never_stored_is_drawn_when_first_asked_for(client: TestClient, runtime: Runtime,
                                                          tokens: Tokens) -> None:
    """A worker that died between committing the document and storing its PDF loses nothing."""
    _, licence = approved_licence(client, runtime, tokens)
    with runtime.unit_of_work() as session:
        stored = session.execute(select(IssuedDocument.pdf).where(IssuedDocument.id == licence["id"])).scalar_one()
        session.execute(update(IssuedDocument).values(pdf=None, pdf_sha256=None))
    drawn = client.get(f"/api/v1/documents/{licence['id']}/pdf", headers=tokens.headers("citizen"))
    assert drawn.status_code == 200 and drawn.content == stored
    with runtime.reading() as session:
        assert session.execute(select(IssuedDocument.pdf).where(IssuedDocument.id == licence["id"])).scalar_one()
