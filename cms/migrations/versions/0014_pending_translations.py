"""pending translations

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:30:00

An edit of a published article's translation waits in `pending_translation` until the article
is published, as the article's own edits wait in `pending_version`; translation revisions say
whether they saved a pending translation. Existing translations stay live as they are, and
their revisions read as live saves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_hashes", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "locale", name="uq_pending_translation_article_locale"),
    )
    with op.batch_alter_table("translation_revision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("translation_revision", schema=None) as batch_op:
        batch_op.drop_column("pending")
    op.drop_table("pending_translation")
