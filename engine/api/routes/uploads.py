"""Documents for tasks that ask for one: upload first, then answer with the returned id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile

from engine.api.deps import ALL_ROLES, PrincipalDep, RuntimeDep, SessionDep, allow
from engine.api.schemas import UploadOut
from engine.services import uploads

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])


@router.post("", status_code=201, response_model=UploadOut, **allow(*ALL_ROLES),
             responses={422: {"description": "empty, too big, or not a PDF, PNG or JPEG"}})
async def upload(session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep,
                 file: Annotated[UploadFile, File(description="a PDF, PNG or JPEG, at most 5 MB")]) -> UploadOut:
    """Store a document; use its `id` as the answer to the task's file question."""
    content = await file.read(uploads.MAX_BYTES + 1)
    try:
        stored = uploads.store(session, runtime.settings.var_dir / "uploads", principal.name,
                               file.filename or "document", content)
    except uploads.UploadRefused as refused:
        reasons = {"upload.empty": "the file is empty", "upload.too_big": "the file is over 5 MB",
                   "upload.wrong_type": "the file is not a PDF, PNG or JPEG (judged by its content)"}
        raise HTTPException(422, reasons.get(refused.reason, refused.reason)) from refused
    return UploadOut(id=stored.id, name=stored.name, media_type=stored.media_type, size=stored.size,
                     sha256=stored.sha256)
