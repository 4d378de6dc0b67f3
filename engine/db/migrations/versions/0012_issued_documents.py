"""issued documents: what a case issued, the serial counter per kind, and the log of public checks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
# The payment work brings 0011 (after 0010); this revision follows whichever comes last on main.
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_document",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("holder_national_code", sa.String(length=10), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"],
                                name=op.f("fk_issued_document_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_document")),
        sa.UniqueConstraint("code", name=op.f("uq_issued_document_code")),
        sa.UniqueConstraint("instance_id", "kind", name=op.f("uq_issued_document_instance_id")),
        sa.UniqueConstraint("kind", "serial", name=op.f("uq_issued_document_kind")),
    )
    with op.batch_alter_table("issued_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_document_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_document_agency"), ["agency"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_document_holder_national_code"), ["holder_national_code"],
                              unique=False)

    op.create_table(
        "document_serial",
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_document_serial")),
    )

    op.create_table(
        "document_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("checker", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["issued_document.id"],
                                name=op.f("fk_document_check_document_id_issued_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_check")),
    )
    with op.batch_alter_table("document_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_check_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_table("document_check")
    op.drop_table("document_serial")
    op.drop_table("issued_document")
