"""working copies: pending versions, expiry, pending revisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:30:00

A published article's edits are kept as its pending version (`pending_version`) until published;
articles may expire (`article.unpublish_at`); revisions say whether they saved a pending version.
Scheduled publications that already came due are marked announced (their `updated_at` set to
when they went live), so the go-live scan of `cms.workflow` does not announce them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unpublish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id"),
    )
    with op.batch_alter_table("pending_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_version_publish_at"), ["publish_at"])
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unpublish_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        sa.text(
            "UPDATE article SET updated_at = published_at WHERE status = 'published' "
            "AND published_at > updated_at AND published_at <= CURRENT_TIMESTAMP"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_column("pending")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("unpublish_at")
    op.drop_table("pending_version")
