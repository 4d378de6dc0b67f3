"""Documents for tasks that ask for one: upload first, then answer with the returned id."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, UploadFile
from starlette.concurrency import run_in_threadpool

from engine.api.deps import WORKERS, PrincipalDep, RuntimeDep, WriterDep, allow
from engine.api.inputs import file_name
from engine.api.routing import router as make_router
from engine.api.schemas import UploadOut
from engine.services import uploads
from engine.services.errors import InvalidInput
from forms.validate import FieldError

router = make_router("/api/v1/uploads", "uploads")
REASONS = {"upload.empty": "the file is empty", "upload.too_big": "the file is over 5 MB",
           "upload.wrong_type": "the file is not a PDF, PNG or JPEG (judged by its content)",
           "upload.bad_name": "the file name holds control characters or a lone surrogate"}


@router.post("", status_code=201, response_model=UploadOut, **allow(*WORKERS),
             responses={422: {"description": "empty, too big, or not a PDF, PNG or JPEG"}})
async def upload(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep,
                 file: Annotated[UploadFile, File(description="a PDF, PNG or JPEG, at most 5 MB")]) -> UploadOut:
    """Store a document; use its `id` as the answer to the task's file question."""
    content = await file.read(uploads.MAX_BYTES + 1)
    name = file_name(file.filename, "file", "document")

    def store() -> UploadOut:
        with write() as session:
            try:
                stored = uploads.store(session, runtime.settings.var_dir / "uploads", principal.name, name, content)
            except uploads.UploadRefused as refused:
                raise InvalidInput([FieldError("file", REASONS.get(refused.reason, refused.reason))]) from refused
        return UploadOut(id=stored.id, name=stored.name, media_type=stored.media_type, size=stored.size,
                         sha256=stored.sha256)

    return await run_in_threadpool(store)
