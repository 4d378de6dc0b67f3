"""Issued documents: a case's documents, their PDFs, and revoking one."""

from __future__ import annotations

from fastapi.responses import Response

from engine.api.deps import READERS, PrincipalDep, ReadSessionDep, RuntimeDep, WriterDep, allow
from engine.api.routing import router as make_router
from engine.api.schemas import IssuedDocumentOut, RevokeIn
from engine.security.principals import Role
from engine.services import issued_documents
from engine.services.document_codes import grouped
from engine.services.issued_documents import IssuedView

router = make_router("/api/v1", "issued documents")


def _out(document: IssuedView) -> IssuedDocumentOut:
    return IssuedDocumentOut(
        id=document.id, kind=document.kind, serial=document.serial, code=grouped(document.code),
        instance_id=document.instance_id, agency=document.agency, holder_national_code=document.holder_national_code,
        holder_name=document.holder_name, title=dict(document.content.get("title") or {}),
        issued_at=document.issued_at, valid_until=document.valid_until, revoked_at=document.revoked_at,
        status=document.status(issued_documents.today_in_iran()),
        checks=document.checks)


@router.get("/instances/{instance_id}/documents", response_model=list[IssuedDocumentOut], **allow(*READERS))
def list_documents(session: ReadSessionDep, principal: PrincipalDep, instance_id: str) -> list[IssuedDocumentOut]:
    """The documents a case issued (licences, certificates), oldest first."""
    return [_out(document) for document in issued_documents.of_visible_case(session, principal, instance_id)]


@router.get("/documents/{document_id}/pdf", response_class=Response, **allow(*READERS),
            responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "the document as issued"}})
def document_pdf(runtime: RuntimeDep, principal: PrincipalDep, document_id: str) -> Response:
    """The issued document as a PDF: the case's citizen, staff of the issuing agency or of the case."""
    with runtime.reading() as session:
        document = issued_documents.readable(session, principal, document_id)
    pdf = issued_documents.pdf_of(runtime, document)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{issued_documents.file_name(document)}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.post("/documents/{document_id}/revoke", response_model=IssuedDocumentOut, **allow(Role.ADMIN, Role.STAFF))
def revoke_document(write: WriterDep, principal: PrincipalDep, document_id: str, body: RevokeIn) -> IssuedDocumentOut:
    """Revoke a document (its issuing agency, or an admin): the public check says so from now on."""
    with write() as session:
        revoked = issued_documents.revoke(session, principal, document_id, body.reason)
    return _out(revoked)
