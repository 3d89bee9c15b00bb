"""pending search documents

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:30:00

Editors' search reads the text of pending versions: their search documents get a table and a
full-text index of their own (`pending_search_document`), filled here from the pending versions
already stored. The public's `search_document` is not touched.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from cms.documents import ArticleDocument
from cms.search_index import search_rows

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# A copy of cms.models.PENDING_SEARCH_DDL as it was when this migration was written.
PENDING_SEARCH_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE VIRTUAL TABLE pending_search_fts USING fts5(title, body, "
        "content='pending_search_document', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 0')",
        "CREATE TRIGGER pending_search_document_ai AFTER INSERT ON pending_search_document "
        "BEGIN INSERT INTO pending_search_fts(rowid, title, body) "
        "VALUES (new.id, new.title, new.body); END",
        "CREATE TRIGGER pending_search_document_ad AFTER DELETE ON pending_search_document "
        "BEGIN INSERT INTO pending_search_fts(pending_search_fts, rowid, title, body) "
        "VALUES ('delete', old.id, old.title, old.body); END",
        "CREATE TRIGGER pending_search_document_au AFTER UPDATE ON pending_search_document "
        "BEGIN INSERT INTO pending_search_fts(pending_search_fts, rowid, title, body) "
        "VALUES ('delete', old.id, old.title, old.body); "
        "INSERT INTO pending_search_fts(rowid, title, body) "
        "VALUES (new.id, new.title, new.body); END",
    ),
    "postgresql": (
        "ALTER TABLE pending_search_document ADD COLUMN search_vector tsvector GENERATED "
        "ALWAYS AS (setweight(to_tsvector('english', title), 'A') "
        "|| setweight(to_tsvector('english', body), 'B')) STORED",
        "CREATE INDEX ix_pending_search_document_fts ON pending_search_document "
        "USING gin (search_vector)",
    ),
}
PENDING_SEARCH_DROP_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS pending_search_document_au",
        "DROP TRIGGER IF EXISTS pending_search_document_ad",
        "DROP TRIGGER IF EXISTS pending_search_document_ai",
        "DROP TABLE IF EXISTS pending_search_fts",
    ),
    "postgresql": ("DROP INDEX IF EXISTS ix_pending_search_document_fts",),
}
_PENDING_SEARCH_DOCUMENT = sa.table(
    "pending_search_document",
    *(sa.column(name) for name in ("article_id", "part", "slug", "title", "body")),
    sa.column("is_draft", sa.Boolean()),
)


def upgrade() -> None:
    op.create_table(
        "pending_search_document",
        sa.Column(
            "part",
            sa.Enum(
                "article",
                "section",
                "benefit",
                "nutrition_tip",
                "precaution",
                "conclusion",
                name="search_part",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("is_draft", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "part", "slug", name="uq_pending_search_document_part"),
    )
    with op.batch_alter_table("pending_search_document", schema=None) as batch_op:
        batch_op.create_index("ix_pending_search_document_article_id", ["article_id"], unique=False)
    bind = op.get_bind()
    for statement in PENDING_SEARCH_DDL[bind.dialect.name]:
        op.execute(statement)
    rows = _pending_search_rows(bind)
    if rows:
        bind.execute(_PENDING_SEARCH_DOCUMENT.insert(), rows)


def _pending_search_rows(bind: sa.Connection) -> list[dict[str, Any]]:
    """The search documents of every stored pending version, as `cms.search_index` makes them."""
    found = bind.execute(
        sa.text(
            "SELECT article_id, document FROM pending_version WHERE document IS NOT NULL "
            "ORDER BY article_id"
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for article_id, document in found:
        data = json.loads(document) if isinstance(document, str) else document
        for row in search_rows(ArticleDocument.model_validate(data)):
            rows.append({**row, "part": row["part"].value, "article_id": article_id})
    return rows


def downgrade() -> None:
    bind = op.get_bind()
    for statement in PENDING_SEARCH_DROP_DDL[bind.dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("pending_search_document", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_search_document_article_id")
    op.drop_table("pending_search_document")
