"""search documents, article tags, benefit tags

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 03:50:00

Adds the full-text index (an FTS5 table kept by triggers on SQLite, a generated tsvector column
with a GIN index on PostgreSQL) and fills it from the articles already stored.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from cms.text import to_text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A copy of cms.models.SEARCH_DDL as it was when this migration was written.
SEARCH_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_document', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 0')",
        "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
        "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
        "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
        "INSERT INTO search_fts(search_fts, rowid, title, body) "
        "VALUES ('delete', old.id, old.title, old.body); END",
        "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
        "INSERT INTO search_fts(search_fts, rowid, title, body) "
        "VALUES ('delete', old.id, old.title, old.body); "
        "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    ),
    "postgresql": (
        "ALTER TABLE search_document ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        "(setweight(to_tsvector('english', title), 'A') "
        "|| setweight(to_tsvector('english', body), 'B')) STORED",
        "CREATE INDEX ix_search_document_fts ON search_document USING gin (search_vector)",
    ),
}
SEARCH_DROP_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS search_document_au",
        "DROP TRIGGER IF EXISTS search_document_ad",
        "DROP TRIGGER IF EXISTS search_document_ai",
        "DROP TABLE IF EXISTS search_fts",
    ),
    "postgresql": ("DROP INDEX IF EXISTS ix_search_document_fts",),
}
_ITEM_TABLES = (
    ("section", "section"),
    ("benefit", "benefit"),
    ("nutrition_tip", "nutrition_tip"),
    ("precaution", "precaution"),
)
_MARKERS = str.maketrans("", "", "\x02\x03")
_SEARCH_DOCUMENT = sa.table(
    "search_document",
    *(sa.column(name) for name in ("article_id", "part", "slug", "title", "body")),
    sa.column("is_draft", sa.Boolean()),
)


def upgrade() -> None:
    op.create_table(
        "article_tag",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "tag"),
        sa.UniqueConstraint("article_id", "position", name="uq_article_tag_article_position"),
    )
    with op.batch_alter_table("article_tag", schema=None) as batch_op:
        batch_op.create_index("ix_article_tag_tag_article", ["tag", "article_id"], unique=False)

    op.create_table(
        "search_document",
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
        sa.UniqueConstraint("article_id", "part", "slug", name="uq_search_document_part"),
    )
    with op.batch_alter_table("benefit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))

    bind = op.get_bind()
    for statement in SEARCH_DDL[bind.dialect.name]:
        op.execute(statement)
    rows = _search_rows(bind)
    if rows:
        bind.execute(_SEARCH_DOCUMENT.insert(), rows)


def _search_rows(bind: sa.Connection) -> list[dict[str, Any]]:
    """The search documents of every stored article, as `cms.search_index` makes them."""
    articles = bind.execute(
        sa.text(
            "SELECT id, title, headline, intro, conclusion_title, conclusion FROM article "
            "ORDER BY id"
        )
    ).all()
    items: dict[int, list[dict[str, Any]]] = {}
    for part, table in _ITEM_TABLES:
        found = bind.execute(
            sa.text(
                f"SELECT article_id, slug, title, body, is_draft FROM {table} "
                "ORDER BY article_id, position"
            )
        ).all()
        for article_id, slug, title, body, is_draft in found:
            items.setdefault(article_id, []).append(
                _row(article_id, part, slug, title, to_text(body), bool(is_draft))
            )
    rows: list[dict[str, Any]] = []
    for article_id, title, headline, intro, conclusion_title, conclusion in articles:
        own_text = "\n\n".join(part for part in (headline, to_text(intro)) if part)
        rows.append(_row(article_id, "article", "", title, own_text, False))
        rows.extend(items.get(article_id, []))
        if conclusion_title or conclusion:
            rows.append(
                _row(article_id, "conclusion", "", conclusion_title, to_text(conclusion), False)
            )
    return rows


def _row(
    article_id: int, part: str, slug: str, title: str, body: str, is_draft: bool
) -> dict[str, Any]:
    return {
        "article_id": article_id, "part": part, "slug": slug,
        "title": title.translate(_MARKERS), "body": body.translate(_MARKERS), "is_draft": is_draft,
    }  # fmt: skip


def downgrade() -> None:
    for statement in SEARCH_DROP_DDL[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("benefit", schema=None) as batch_op:
        batch_op.drop_column("tags")
    op.drop_table("search_document")
    with op.batch_alter_table("article_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_article_tag_tag_article")
    op.drop_table("article_tag")
