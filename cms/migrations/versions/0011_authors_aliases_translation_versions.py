"""author versions, slug aliases, translation versions, revisions and source hashes

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 12:30:00

Existing authors and translations start at version 1. Every translated field gets the hash of
its source text as stored now, so existing translations do not all read as stale.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# A copy of the item tables and the hash as they were when this migration was written.
_ITEM_LISTS = (
    ("sections", "section"),
    ("benefits", "benefit"),
    ("nutrition_tips", "nutrition_tip"),
    ("precautions", "precaution"),
)
_CONCLUSION_FIELDS = {"title": "conclusion_title", "body": "conclusion"}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def upgrade() -> None:
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("article_translation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("source_hashes", sa.JSON(), nullable=False, server_default="{}")
        )
    op.create_table(
        "slug_alias",
        sa.Column(
            "kind",
            sa.Enum(
                "article",
                "benefit",
                name="alias_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("item_slug", sa.String(length=100), nullable=True),
        sa.Column("old_slug", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "scope", "old_slug", name="uq_slug_alias_kind_scope_slug"),
    )
    with op.batch_alter_table("slug_alias", schema=None) as batch_op:
        batch_op.create_index("ix_slug_alias_article_id", ["article_id"], unique=False)
    op.create_table(
        "translation_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("source_hashes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "article_id", "locale", "version", name="uq_translation_revision_version"
        ),
    )
    _hash_translated_sources(op.get_bind())


def _hash_translated_sources(bind: sa.Connection) -> None:
    table = sa.table(
        "article_translation",
        sa.column("id"),
        sa.column("article_id"),
        sa.column("document", sa.JSON()),
        sa.column("source_hashes", sa.JSON()),
    )
    translations = bind.execute(sa.select(table.c.id, table.c.article_id, table.c.document)).all()
    if not translations:
        return
    # Every column of the article: a translation may translate any of its text fields.
    articles = {
        row["id"]: dict(row) for row in bind.execute(sa.text("SELECT * FROM article")).mappings()
    }
    items: dict[tuple[int, str, str], dict[str, Any]] = {}
    for list_name, item_table in _ITEM_LISTS:
        for row in bind.execute(sa.text(f"SELECT * FROM {item_table}")).mappings():
            items[(row["article_id"], list_name, row["slug"])] = dict(row)
    for translation_id, article_id, overlay in translations:
        base = articles[article_id]
        hashes: dict[str, str] = {}
        for key, value in overlay.items():
            if key == "conclusion":
                for name in value:
                    hashes[f"conclusion.{name}"] = _hash(base[_CONCLUSION_FIELDS[name]] or "")
            elif isinstance(value, dict):
                for slug, fields in value.items():
                    item = items.get((article_id, key, slug), {})
                    for name in fields:
                        hashes[f"{key}.{slug}.{name}"] = _hash(str(item.get(name) or ""))
            else:
                hashes[key] = _hash(str(base.get(key) or ""))
        bind.execute(
            table.update().where(table.c.id == translation_id).values(source_hashes=hashes)
        )


def downgrade() -> None:
    op.drop_table("translation_revision")
    with op.batch_alter_table("slug_alias", schema=None) as batch_op:
        batch_op.drop_index("ix_slug_alias_article_id")
    op.drop_table("slug_alias")
    with op.batch_alter_table("article_translation", schema=None) as batch_op:
        batch_op.drop_column("source_hashes")
        batch_op.drop_column("version")
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.drop_column("version")
