"""article meta title and meta description

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-02 12:30:00

Two plain-text columns, empty on every existing article: empty falls back (`cms.seo`), so what
search engines are shown does not change until an editor writes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("meta_title", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("meta_description", sa.String(length=300), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("meta_description")
        batch_op.drop_column("meta_title")
