"""reviewers, reviews bound to a text hash, citations, rule overrides

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02 12:20:00

Moves the free-text medical review of 0005 (`article.reviewed_by`, `last_reviewed`) to reviewer
entities and approvals. A dated review is bound to the article's current text when the article
has not changed since that day; otherwise its text is unknown (it then reads "updated since its
medical review"). An undated one keeps its reviewer but records no approval.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from cms.reviews import hash_reviewable

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The item tables and their text fields when this migration was written.
_TEXT_FIELDS = {
    "sections": ("section", ("title", "body")),
    "benefits": ("benefit", ("title", "body")),
    "nutrition_tips": ("nutrition_tip", ("title", "body")),
    "precautions": ("precaution", ("title", "body")),
}
_CITED = ("section", "benefit", "precaution")
_REVIEW_INTERVAL_DAYS = 365


def upgrade() -> None:
    op.create_table(
        "reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credentials", sa.String(length=100), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=False),
        sa.Column("specialty", sa.String(length=200), nullable=False),
        sa.Column("registration_number", sa.String(length=100), nullable=True),
        sa.Column("profile_url", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(name) > 0", name="reviewer_name_not_empty"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "article_review",
        sa.Column(
            "action",
            sa.Enum(
                "submitted",
                "approved",
                "changes_requested",
                name="review_action",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("next_review_due", sa.Date(), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["reviewer.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("article_review", schema=None) as batch_op:
        batch_op.create_index("ix_article_review_article_id", ["article_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_article_review_reviewer_id"), ["reviewer_id"], unique=False
        )
    for table in _CITED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("citations", sa.JSON(), nullable=False, server_default="[]")
            )
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override", sa.JSON(), nullable=True))
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_hash", sa.String(length=64), nullable=False, server_default="")
        )

    _move_reviews(op.get_bind())

    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("last_reviewed")
        batch_op.drop_column("reviewed_by")


def _move_reviews(bind: sa.Connection) -> None:
    now = datetime.now().astimezone()
    articles = bind.execute(
        sa.text(
            "SELECT id, title, intro, conclusion_title, conclusion, version, updated_at, "
            "reviewed_by, last_reviewed FROM article ORDER BY id"
        )
    ).all()
    items = _items(bind)
    reviewer_ids: dict[str, int] = {}
    for row in articles:
        conclusion = (
            {"title": row.conclusion_title, "body": row.conclusion}
            if row.conclusion_title or row.conclusion
            else None
        )
        content = {
            "title": row.title,
            "intro": row.intro,
            "items": {name: items.get((row.id, name), []) for name in _TEXT_FIELDS},
            "conclusion": conclusion,
        }
        content_hash = hash_reviewable(content)
        bind.execute(
            sa.text("UPDATE article SET content_hash = :hash WHERE id = :id"),
            {"hash": content_hash, "id": row.id},
        )
        if not (row.reviewed_by or "").strip():
            continue
        reviewer_id = _reviewer(bind, row.reviewed_by.strip(), reviewer_ids, now)
        reviewed_on = _date(row.last_reviewed)
        if reviewed_on is None:
            continue
        unchanged_since = _date(row.updated_at) is not None and _date(row.updated_at) <= reviewed_on  # type: ignore[operator]
        bind.execute(
            sa.text(
                "INSERT INTO article_review (action, article_id, reviewer_id, version, "
                "content_hash, reviewed_on, next_review_due, note, actor, created_at) VALUES "
                "('approved', :article_id, :reviewer_id, :version, :hash, :reviewed_on, :due, "
                "'', 'migration 0012', :now)"
            ),
            {
                "article_id": row.id,
                "reviewer_id": reviewer_id,
                "version": row.version,
                "hash": content_hash if unchanged_since else "",
                "reviewed_on": reviewed_on,
                "due": reviewed_on + timedelta(days=_REVIEW_INTERVAL_DAYS),
                "now": now,
            },
        )


def _items(bind: sa.Connection) -> dict[tuple[int, str], list[dict[str, Any]]]:
    found: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for list_name, (table, fields) in _TEXT_FIELDS.items():
        rows = bind.execute(
            sa.text(
                f"SELECT article_id, slug, {', '.join(fields)}, is_draft FROM {table} "
                "ORDER BY article_id, position"
            )
        ).all()
        for row in rows:
            if not row.is_draft:
                text = {name: getattr(row, name) for name in fields}
                found.setdefault((row.article_id, list_name), []).append({"slug": row.slug, **text})
    return found


def _reviewer(bind: sa.Connection, free_text: str, known: dict[str, int], now: datetime) -> int:
    """`Dr. Jane Doe, MD` -> a reviewer named `Dr. Jane Doe` with credentials `MD`."""
    name, _, credentials = (part.strip() for part in free_text.partition(","))
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "reviewer"
    if slug not in known:
        bind.execute(
            sa.text(
                "INSERT INTO reviewer (slug, name, credentials, job_title, specialty, version, "
                "created_at, updated_at) VALUES (:slug, :name, :credentials, '', '', 1, :now, :now)"
            ),
            {"slug": slug, "name": name[:200], "credentials": credentials[:100], "now": now},
        )
        known[slug] = bind.execute(
            sa.text("SELECT id FROM reviewer WHERE slug = :slug"), {"slug": slug}
        ).scalar_one()
    return known[slug]


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def downgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviewed_by", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("last_reviewed", sa.Date(), nullable=True))
    bind = op.get_bind()
    approvals = bind.execute(
        sa.text(
            "SELECT r.article_id, r.reviewed_on, v.name, v.credentials FROM article_review r "
            "JOIN reviewer v ON v.id = r.reviewer_id WHERE r.action = 'approved' ORDER BY r.id"
        )
    ).all()
    for row in approvals:
        name = f"{row.name}, {row.credentials}" if row.credentials else row.name
        bind.execute(
            sa.text("UPDATE article SET reviewed_by = :name, last_reviewed = :day WHERE id = :id"),
            {"name": name[:200], "day": row.reviewed_on, "id": row.article_id},
        )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_column("override")
    for table in _CITED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("citations")
    with op.batch_alter_table("article_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_review_reviewer_id"))
        batch_op.drop_index("ix_article_review_article_id")
    op.drop_table("article_review")
    op.drop_table("reviewer")
