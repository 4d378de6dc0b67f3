"""Files citizens give: type and size limits, content sniffed, stored by content hash
outside the web root, and never served back with an executable type.

An upload belongs to the person who gave it until an answer naming it is accepted; then it is
bound to that case (and task) for good, and an answer in any other case may not name it.
Who may read it is decided in `engine.services.access`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.orm import Session

from engine.db.base import UTCDateTime, utcnow
from engine.db.models import Upload
from engine.security.principals import Principal
from engine.services.access import visible_uploads
from forms.conditions import occurrences
from forms.storable import unstorable_text
from forms.validate import FieldError

MAX_BYTES = 5 * 1024 * 1024
UPLOAD_ID_LENGTH = 36  # a UUID as text
# What a file's first bytes must be for each type we accept. The name and the declared
# type are the sender's claim; the bytes are what a viewer will actually parse.
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}


class UploadRefused(ValueError):
    """The file is empty, too big, or not one of the accepted types; `reason` is a message key."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    media_type: str
    size: int
    sha256: str

    def as_value(self) -> dict[str, object]:
        """What goes into task data: a reference, never the bytes."""
        return {"upload_id": self.id, "name": self.name, "media_type": self.media_type, "size": self.size,
                "sha256": self.sha256}


def sniff(content: bytes) -> str | None:
    for media_type, prefixes in SIGNATURES.items():
        if content.startswith(prefixes):
            return media_type
    return None


def store(session: Session, root: Path, owner: str, filename: str, content: bytes,
          max_bytes: int = MAX_BYTES) -> StoredFile:
    """Keep `content` under `root`, named by its SHA-256, and record who gave it."""
    if not content:
        raise UploadRefused("upload.empty")
    if len(content) > max_bytes:
        raise UploadRefused("upload.too_big")
    media_type = sniff(content)
    if media_type is None:
        raise UploadRefused("upload.wrong_type")
    if unstorable_text(filename) or any(ord(c) < 32 or ord(c) == 127 for c in filename):
        # The name is kept and shown back; a browser sends whatever the file system allowed.
        raise UploadRefused("upload.bad_name")
    digest = hashlib.sha256(content).hexdigest()
    target = root / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(target)
    safe_name = Path(filename.replace("\\", "/")).name[:200] or "document"
    row = Upload(id=str(uuid.uuid4()), sha256=digest, owner=owner, filename=safe_name, media_type=media_type,
                 size=len(content))
    session.add(row)
    return StoredFile(row.id, safe_name, media_type, len(content), digest)


def path_of(root: Path, row: Upload) -> Path:
    """Where the bytes of `row` are kept under `root`."""
    return root / row.sha256[:2] / row.sha256


def names(session: Session, principal: Principal, ids: Collection[str]) -> dict[str, str]:
    """The file names of those of `ids` that `principal` may read."""
    wanted = [i for i in ids if isinstance(i, str) and len(i) == UPLOAD_ID_LENGTH]
    if not wanted:
        return {}
    rows = session.execute(select(Upload.id, Upload.filename).where(Upload.id.in_(wanted), visible_uploads(principal)))
    return {upload_id: filename for upload_id, filename in rows}


def file_answers(form: dict[str, Any] | None, data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Each answer to a file question of `form` in `data`: where it is, and what it names.

    File questions may sit inside groups and repeated groups, and a list answer names several files.
    """
    widgets = ((form or {}).get("ui") or {}).get("widgets") or {}
    for path, widget in widgets.items():
        if widget != "file":
            continue
        for holder, key, concrete in occurrences(data, path):
            value = holder.get(key)
            for item in value if isinstance(value, list) else [] if value is None else [value]:
                yield ".".join(str(p) for p in concrete), item


def refused_answers(session: Session, form: dict[str, Any] | None, data: dict[str, Any], owners: Collection[str],
                    instance_id: str | None) -> list[FieldError]:
    """The file answers that may not be given in case `instance_id` (None: a case not started yet).

    An answer must name an upload one of `owners` gave, not yet part of another case.
    """
    errors = []
    for path, value in file_answers(form, data):
        upload = session.get(Upload, value) if isinstance(value, str) else None
        if upload is None or upload.owner not in owners:
            errors.append(FieldError(path, "upload the document first; this is not a file you uploaded",
                                     code="upload-unknown"))
        elif upload.instance_id is not None and upload.instance_id != instance_id:
            errors.append(_elsewhere(path))
    return errors


def bind(session: Session, form: dict[str, Any] | None, data: dict[str, Any], instance_id: str,
         task_id: str | None) -> list[FieldError]:
    """Bind every file answer of an accepted submission to its case (and task); answers whose
    upload another case took in the meantime come back as errors, and the caller must not commit."""
    errors = []
    for path, value in file_answers(form, data):
        # One conditional UPDATE, so of two cases racing for one upload exactly one gets it.
        taken = session.execute(
            update(Upload)
            .where(Upload.id == value, or_(Upload.instance_id.is_(None), Upload.instance_id == instance_id))
            .values(instance_id=instance_id, task_id=func.coalesce(Upload.task_id, task_id),
                    bound_at=func.coalesce(Upload.bound_at, literal(utcnow(), UTCDateTime)))
            .execution_options(synchronize_session="fetch"))
        if getattr(taken, "rowcount", 0) != 1:
            errors.append(_elsewhere(path))
    return errors


def _elsewhere(path: str) -> FieldError:
    return FieldError(path, "this document was given in another application; upload it again for this one",
                      code="upload-unknown")
