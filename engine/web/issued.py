"""Issued documents on the pages: the public check by code, and the PDF for its readers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from engine.services import issued_documents, verification
from engine.services.access import Audience
from engine.services.document_codes import grouped
from engine.services.issued_documents import IssuedView
from engine.services.ratelimit import RateLimited
from engine.web.audience import audience
from engine.web.page_context import Page, PageDep

router = APIRouter(include_in_schema=False)
# More than anyone types by hand; a checker with more to check needs an agreement, not a page.
CODE_INPUT_CHARS = 200


@router.get("/verify", **audience(Audience.ANYONE))
def verify(page: PageDep, code: str = "") -> Response:
    typed = code[:CODE_INPUT_CHARS]
    if not typed.strip():
        return page.render("verify.html", verdict=None, errors={}, typed="")
    principal = page.principal
    try:
        with page.runtime.unit_of_work() as session:
            verdict = verification.check(session, typed, page.client, principal.actor if principal else None)
    except verification.MalformedCode:
        return page.render("verify.html", status=422, verdict=None, typed=typed,
                           errors={"code": page.t("verify.malformed")})
    except RateLimited as limited:
        response = page.render("verify.html", status=429, verdict=None, typed=typed, errors={
            "code": page.t("verify.too_many", minutes=limited.retry_after // 60 + 1)})
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    return page.render("verify.html", status=404 if verdict.result == "unknown" else 200, verdict=verdict,
                       shown=grouped(verdict.code), errors={}, typed=typed)


def _pdf(page: Page, document: IssuedView) -> Response:
    pdf = issued_documents.pdf_of(page.runtime, document)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{issued_documents.file_name(document)}"',
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"})


@router.get("/cases/{instance_id}/documents/{document_id}", **audience(Audience.CITIZEN))
def case_document(page: PageDep, instance_id: str, document_id: str) -> Response:
    """A document the citizen's case issued, as its PDF."""
    with page.runtime.reading() as session:
        document = issued_documents.readable(session, page.visitor, document_id, instance_id)
    return _pdf(page, document)


@router.get("/staff/documents/{document_id}", **audience(Audience.STAFF))
def staff_document(page: PageDep, document_id: str) -> Response:
    """A document the agency issued, or one of a case it works on, as its PDF."""
    with page.runtime.reading() as session:
        document = issued_documents.readable(session, page.visitor, document_id)
    return _pdf(page, document)
