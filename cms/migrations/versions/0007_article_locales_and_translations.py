"""article locales and translations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 03:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locale", sa.String(length=35), nullable=False, server_default="en")
        )
    op.create_table(
        "article_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "locale", name="uq_article_translation_article_locale"),
    )


def downgrade() -> None:
    op.drop_table("article_translation")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("locale")
