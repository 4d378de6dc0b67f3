"""Files citizens give: type and size limits, content sniffed, stored by content hash
outside the web root, and never served back with an executable type."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from engine.db.models import Upload

MAX_BYTES = 5 * 1024 * 1024
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
    return root / row.sha256[:2] / row.sha256
