"""immutable deployments: each keeps the importer's output, which is what runs

A deployment used to keep only the uploaded files, which were translated again on every cold
start and in every worker, so a change to the importer changed instances already running.
Now each BPMN and DMN file keeps its translation (`deployment_file.translated`), the
deployment its form models (`forms`) and the version of the importer that made them
(`importer_version`); a redeploy with a newer importer makes a new deployment of the same
upload, which names the upload's first deployment (`redeploy_of`).

Existing deployments are translated here, once, by the importer installed at upgrade time:
that is the translation the engine would have made on its next start anyway. Unlike other
migrations this one calls engine code rather than repeating it, since the importer cannot be
copied here; what it wrote is recorded under the importer's version. A file that no longer
loads is left untranslated, and its deployment refuses to run with a message naming it, as it
did before (the old start failed on it in the same way).

The columns are added in place: SQLite can rebuild a table only with foreign keys off, which
cannot be switched inside the migration's transaction, and other tables refer to `deployment`.
So the new NOT NULL columns carry a server default ("0" for "before versions were kept", an
empty object for forms) that the fill below replaces on every existing row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.bpmn.importer import IMPORTER_VERSION
from engine.bpmn.safe_xml import UnsafeXmlError, load_xml
from engine.bpmn.translated import serialized, translate
from engine.core.documents import Document
from engine.core.package import document_kind
from engine.core.report import Report
from forms.extract import FormDefinitionError, task_forms

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
XML_SUFFIXES = {".bpmn", ".dmn", ".xml"}
FORM_SUFFIXES = {".json", ".form"}
# Stored uploads were accepted under the caps of their day; they are not judged again here.
DEEPEST = 10_000

_deployments = sa.table("deployment", sa.column("id", sa.Integer), sa.column("importer_version", sa.String),
                        sa.column("forms", JSON))
_files = sa.table("deployment_file", sa.column("id", sa.Integer), sa.column("deployment_id", sa.Integer),
                  sa.column("name", sa.String), sa.column("content", sa.LargeBinary),
                  sa.column("translated", sa.LargeBinary))


def upgrade() -> None:
    op.add_column("deployment", sa.Column("importer_version", sa.String(length=32), nullable=False,
                                          server_default=sa.text("'0'")))
    op.add_column("deployment", sa.Column("forms", JSON, nullable=False, server_default=sa.text("'{}'")))
    # No foreign key: SQLite adds none to an existing table, and deployments are never deleted.
    op.add_column("deployment", sa.Column("redeploy_of", sa.Integer(), nullable=True))
    op.add_column("deployment_file", sa.Column("translated", sa.LargeBinary(), nullable=True))
    _translate_existing()


def _translate_existing() -> None:
    bind = op.get_bind()
    for (deployment_id,) in bind.execute(sa.select(_deployments.c.id).order_by(_deployments.c.id)).all():
        rows = bind.execute(sa.select(_files.c.id, _files.c.name, _files.c.content)
                            .where(_files.c.deployment_id == deployment_id).order_by(_files.c.id)).all()
        translated, forms = _translation([(row.id, row.name, bytes(row.content)) for row in rows])
        for file_id, content in translated.items():
            bind.execute(sa.update(_files).where(_files.c.id == file_id).values(translated=content))
        bind.execute(sa.update(_deployments).where(_deployments.c.id == deployment_id)
                     .values(importer_version=IMPORTER_VERSION, forms=forms))


def _translation(files: list[tuple[int, str, bytes]]) -> tuple[dict[int, bytes], dict[str, Any]]:
    """What the engine made of one deployment's uploads at start: translations by file id, and forms."""
    docs: dict[int, Document] = {}
    extras: dict[str, bytes] = {}
    for file_id, name, content in files:
        suffix = PurePosixPath(name).suffix.lower()
        if suffix in FORM_SUFFIXES:
            extras[name] = content
            continue
        if suffix not in XML_SUFFIXES:
            continue
        try:
            root = load_xml(content, name=name, max_bytes=len(content), max_depth=DEEPEST)
        except UnsafeXmlError:
            continue
        kind = document_kind(root)
        if kind is not None:
            docs[file_id] = Document(name, kind, root)
    translated = translate(list(docs.values()), Report())
    forms: dict[str, Any] = {}
    for doc in translated:
        if doc.kind == "bpmn":
            try:
                forms.update(task_forms(doc.root, extras))
            except FormDefinitionError:
                continue
    return {file_id: serialized(doc) for file_id, doc in zip(docs, translated, strict=True)}, forms


def downgrade() -> None:
    """Redeployments share their upload with its first deployment, which alone stays (the others
    go with their definitions; instances of them would have to go first, and block this)."""
    bind = op.get_bind()
    deployments = sa.table("deployment", sa.column("id", sa.Integer), sa.column("redeploy_of", sa.Integer))
    copies = [row.id for row in bind.execute(sa.select(deployments.c.id)
                                             .where(deployments.c.redeploy_of.is_not(None))).all()]
    if copies:
        for table in ("process_definition", "deployment_file"):
            owned = sa.table(table, sa.column("deployment_id", sa.Integer))
            bind.execute(sa.delete(owned).where(owned.c.deployment_id.in_(copies)))
        bind.execute(sa.delete(deployments).where(deployments.c.id.in_(copies)))
    for table, column in (("deployment_file", "translated"), ("deployment", "redeploy_of"),
                          ("deployment", "forms"), ("deployment", "importer_version")):
        op.drop_column(table, column)
