"""Every database table of the CMS, with its constraints and indexes.

Prose fields hold Markdown; HTML and plain text are derived on read (`cms.text`).
Children of an article are ordered by an explicit `position`, unique within the article,
and addressed by a `slug`, also unique within the article.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime
from typing import Any, ClassVar, cast, get_args, get_origin

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelMetaclass

from cms.content_model import (
    BENEFIT,
    ITEM_KINDS,
    NUTRITION_TIP,
    PRECAUTION,
    SECTION,
    ItemKind,
    SectionKind,
    TipKind,
    value_type,
)

__all__ = [
    "AliasKind",
    "ApiToken",
    "Article",
    "ArticleStatus",
    "ArticleTag",
    "ArticleTranslation",
    "ArticleReview",
    "Author",
    "Benefit",
    "ITEM_TABLES",
    "ItemRow",
    "DeliveryStatus",
    "ContentState",
    "NutritionTip",
    "OutboxEvent",
    "Partner",
    "PartnerUsage",
    "PendingSearchDocument",
    "PendingTranslation",
    "PendingVersion",
    "Precaution",
    "ReviewAction",
    "Reviewer",
    "Revision",
    "SEARCH_DDL",
    "SQLITE_SEARCH_INSERT_TRIGGER",
    "SearchDocument",
    "SearchPart",
    "Section",
    "SlugAlias",
    "TranslationRevision",
    "SectionKind",
    "TipKind",
    "WebhookDelivery",
    "WebhookEndpoint",
    "is_schema_object",
    "utc_now",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    ARCHIVED = "archived"


def _enum_column(enum_type: type[enum.Enum], name: str) -> Any:
    # VARCHAR + CHECK rather than native PostgreSQL enums: adding a value is then a plain migration.
    return sa.Column(
        sa.Enum(
            enum_type,
            name=name,
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        nullable=False,
    )


def _timestamp_column(**kwargs: Any) -> Any:
    return sa.Column(UTCDateTime(), nullable=False, **kwargs)


def _meta_text_column() -> Any:
    # A server default, so that rows written before the column existed read as "not set".
    return sa.Column(sa.String(300), nullable=False, server_default="")


class Author(SQLModel, table=True):
    __tablename__: ClassVar[str] = "author"
    __table_args__ = (sa.CheckConstraint("length(name) > 0", name="author_name_not_empty"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    bio: str = Field(default="")
    # Bumped by every change (`cms.authors`); an update names the version it is based on.
    version: int = Field(
        default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1")
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class Article(SQLModel, table=True):
    """An article is visible to the public when it is published and its `published_at` has come."""

    __tablename__: ClassVar[str] = "article"
    __table_args__ = (
        sa.CheckConstraint("length(title) > 0", name="article_title_not_empty"),
        sa.CheckConstraint("version >= 1", name="article_version_positive"),
        sa.CheckConstraint(
            "status <> 'published' OR published_at IS NOT NULL",
            name="article_published_has_date",
        ),
        # Public pages walk this index in slug order (keyset pagination) with the status fixed;
        # the publication time is then checked per row.
        sa.Index("ix_article_status_slug", "status", "slug"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    # The locale the article is written in; translations overlay it (`ArticleTranslation`).
    locale: str = Field(
        default="en",
        sa_column=sa.Column(sa.String(35), nullable=False, server_default="en"),
    )
    title: str = Field(max_length=300)
    headline: str = Field(default="", max_length=500)
    intro: str = ""
    # What search engines show; empty falls back (`cms.seo`).
    meta_title: str = Field(default="", sa_column=_meta_text_column())
    meta_description: str = Field(default="", sa_column=_meta_text_column())
    conclusion_title: str = Field(default="", max_length=300)
    conclusion: str = ""
    status: ArticleStatus = Field(
        default=ArticleStatus.DRAFT, sa_column=_enum_column(ArticleStatus, "article_status")
    )
    published_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    # Content expires: public only before this time (`cms.visibility`); null for never.
    unpublish_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    version: int = 1
    author_id: int = Field(foreign_key="author.id", ondelete="RESTRICT", index=True)
    # SHA-256 of the reviewable text as it is now (`cms.reviews.reviewable_hash`), written with
    # every save: a review covers the text whose hash it recorded.
    content_hash: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class Reviewer(SQLModel, table=True):
    """A clinician who medically reviews articles; named with every review line."""

    __tablename__: ClassVar[str] = "reviewer"
    __table_args__ = (sa.CheckConstraint("length(name) > 0", name="reviewer_name_not_empty"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    credentials: str = Field(default="", max_length=100)
    job_title: str = Field(default="", max_length=200)
    specialty: str = Field(default="", max_length=200)
    registration_number: str | None = Field(default=None, max_length=100)
    profile_url: str | None = Field(default=None, max_length=2000)
    version: int = 1
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class ReviewAction(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


class ArticleReview(SQLModel, table=True):
    """One step of an article's medical review: submitted, approved (by a reviewer, for the
    text whose hash it records) or changes requested. The newest approval is the review."""

    __tablename__: ClassVar[str] = "article_review"
    __table_args__ = (sa.Index("ix_article_review_article_id", "article_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE")
    action: ReviewAction = Field(sa_column=_enum_column(ReviewAction, "review_action"))
    reviewer_id: int | None = Field(
        default=None, foreign_key="reviewer.id", ondelete="RESTRICT", index=True
    )
    version: int
    # The reviewed text's `reviewable_hash`; empty when not known (a review migrated from 0005).
    content_hash: str = Field(default="", max_length=64)
    reviewed_on: date | None = None
    next_review_due: date | None = None
    note: str = ""
    actor: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class ItemRow(SQLModel):
    """Columns every item table has. Not a table itself: each kind's table adds the columns of
    its document's other fields (`cms.content_model`)."""

    id: int | None = Field(default=None, primary_key=True)
    # Indexed by the (article_id, slug) unique constraint.
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE")
    position: int
    slug: str = Field(max_length=100)
    title: str = Field(max_length=300)
    body: str = ""
    is_draft: bool = False


def _item_table(kind: ItemKind) -> type[ItemRow]:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__tablename__": kind.name,
        "__table_args__": (
            sa.UniqueConstraint("article_id", "slug", name=f"uq_{kind.name}_article_slug"),
            sa.UniqueConstraint("article_id", "position", name=f"uq_{kind.name}_article_position"),
            sa.CheckConstraint("position >= 0", name=f"{kind.name}_position_not_negative"),
            sa.CheckConstraint("length(title) > 0", name=f"{kind.name}_title_not_empty"),
        ),
        "__annotations__": annotations,
    }
    for name, info in kind.extra_fields.items():
        annotations[name] = value_type(info)
        default: dict[str, Any] = (
            {"default": info.default}
            if info.default is not PydanticUndefined
            else {"default_factory": info.default_factory}
            if info.default_factory is not None
            else {}
        )
        namespace[name] = Field(sa_column=_column_of(kind, name, info), **default)
    table = SQLModelMetaclass(kind.type_name, (ItemRow,), namespace, table=True)
    return cast(type[ItemRow], table)


def _column_of(kind: ItemKind, name: str, info: FieldInfo) -> Any:
    """The column that stores one field of an item kind's document."""
    python_type = value_type(info)
    if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
        return _enum_column(python_type, _snake(python_type.__name__))
    if python_type == list[str] or _is_model_list(python_type):
        # Shown, never queried: a JSON list in the editor's order.
        return sa.Column(sa.JSON, nullable=False, server_default="[]")
    if python_type is str:
        return sa.Column(sa.Text, nullable=False, server_default="")
    if python_type is bool:
        return sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    raise TypeError(
        f"{kind.document.__name__}.{name}: no column type for {python_type!r}; "
        "add one to cms.models._column_of"
    )


def _is_model_list(python_type: Any) -> bool:
    """A list of structured values (e.g. citations): stored as a JSON list of objects."""
    args = get_args(python_type)
    return (
        get_origin(python_type) is list
        and isinstance(args[0], type)
        and (issubclass(args[0], BaseModel))
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


ITEM_TABLES: dict[ItemKind, type[ItemRow]] = {kind: _item_table(kind) for kind in ITEM_KINDS}
Section = ITEM_TABLES[SECTION]
Benefit = ITEM_TABLES[BENEFIT]
NutritionTip = ITEM_TABLES[NUTRITION_TIP]
Precaution = ITEM_TABLES[PRECAUTION]


class ArticleTranslation(SQLModel, table=True):
    """The text of an article in one more locale: an overlay of the fields it translates, the
    children addressed by slug (see `cms.locales`). Fields it leaves out fall back."""

    __tablename__: ClassVar[str] = "article_translation"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "locale", name="uq_article_translation_article_locale"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Indexed by the (article_id, locale) unique constraint.
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE")
    locale: str = Field(max_length=35)
    document: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # Bumped by every save; a save names the version it is based on (0 for a new translation).
    version: int = Field(
        default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1")
    )
    # The hash of the source text of every translated field when it was translated, by the
    # field's path in `document` (`title`, `benefits.<slug>.body`): a differing hash is stale.
    source_hashes: dict[str, str] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False, server_default="{}")
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class TranslationRevision(SQLModel, table=True):
    """A translation as saved, one per version of it: its overlay and the source hashes."""

    __tablename__: ClassVar[str] = "translation_revision"
    __table_args__ = (
        sa.UniqueConstraint(
            "article_id", "locale", "version", name="uq_translation_revision_version"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE")
    locale: str = Field(max_length=35)
    version: int
    action: str = Field(max_length=20)
    actor: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    document: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    source_hashes: dict[str, str] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # A save of the translation's pending version (`PendingTranslation`), not of what the
    # public sees.
    pending: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )


class PendingTranslation(SQLModel, table=True):
    """The edited, not yet published translation of an article into one locale
    (`cms.pending_translations`): what an edit of a published article's translation waits in
    while `ArticleTranslation` stays what the public reads. Deleted once published or
    discarded; its versions stay in `TranslationRevision`."""

    __tablename__: ClassVar[str] = "pending_translation"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "locale", name="uq_pending_translation_article_locale"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Indexed by the (article_id, locale) unique constraint.
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE")
    locale: str = Field(max_length=35)
    # The overlay to publish; null when the pending change deletes the translation.
    document: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    version: int
    source_hashes: dict[str, str] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False, server_default="{}")
    )
    created_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class AliasKind(enum.StrEnum):
    ARTICLE = "article"
    BENEFIT = "benefit"


class SlugAlias(SQLModel, table=True):
    """A slug something had before it was renamed, so links made with it keep working
    (`cms.aliases`). An article's old slug leads to the article (`article_id`); a benefit's
    old slug leads, within its article, to the benefit's current slug (`item_slug`)."""

    __tablename__: ClassVar[str] = "slug_alias"
    __table_args__ = (
        sa.UniqueConstraint("kind", "scope", "old_slug", name="uq_slug_alias_kind_scope_slug"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: AliasKind = Field(sa_column=_enum_column(AliasKind, "alias_kind"))
    # Where the old slug is unique: 0 for articles (site-wide), the article's id for items.
    scope: int = 0
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE", index=True)
    item_slug: str | None = Field(default=None, max_length=100)
    old_slug: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class ArticleTag(SQLModel, table=True):
    """One tag of an article, at its place in the editor's list. The primary key serves an
    article's tags; `ix_article_tag_tag_article` serves the tag filter and related articles."""

    __tablename__: ClassVar[str] = "article_tag"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "position", name="uq_article_tag_article_position"),
        sa.Index("ix_article_tag_tag_article", "tag", "article_id"),
    )

    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE", primary_key=True)
    tag: str = Field(max_length=50, primary_key=True)
    position: int


class SearchPart(enum.StrEnum):
    """Which part of an article a search document holds."""

    ARTICLE = "article"
    SECTION = "section"
    BENEFIT = "benefit"
    NUTRITION_TIP = "nutrition_tip"
    PRECAUTION = "precaution"
    CONCLUSION = "conclusion"


if missing := {kind.name for kind in ITEM_KINDS} - {part.value for part in SearchPart}:
    raise TypeError(f"SearchPart lacks a member for the item kinds {sorted(missing)}")


class SearchDocument(SQLModel, table=True):
    """The plain text of one part of an article, as full-text search sees it. Rewritten by
    `cms.content` in the transaction of every write, so the index is never behind the content.

    The full-text index itself lives outside this metadata (`SEARCH_DDL`): an FTS5 table kept
    by triggers on SQLite; on PostgreSQL a generated, weighted `search_vector` tsvector column
    (title A, body B) with a GIN index. Never alter this table with a
    batch (copy-and-drop) migration on SQLite without creating the triggers again.
    """

    __tablename__: ClassVar[str] = "search_document"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "part", "slug", name="uq_search_document_part"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE")
    part: SearchPart = Field(sa_column=_enum_column(SearchPart, "search_part"))
    # The item's slug; empty for the article's own text and for its conclusion.
    slug: str = Field(default="", max_length=100)
    title: str = ""
    body: str = ""
    is_draft: bool = False


class PendingSearchDocument(SQLModel, table=True):
    """The search documents of articles' pending versions (`cms.working_copies`), which only
    editors search. Kept apart from `search_document`, with a full-text index of its own, so
    that what the public searches, and how it ranks, never depends on pending text."""

    __tablename__: ClassVar[str] = "pending_search_document"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "part", "slug", name="uq_pending_search_document_part"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE", index=True)
    part: SearchPart = Field(sa_column=_enum_column(SearchPart, "search_part"))
    slug: str = Field(default="", max_length=100)
    title: str = ""
    body: str = ""
    is_draft: bool = False


FullTextDDL = dict[str, tuple[str, ...]]


def full_text_ddl(table: str, fts: str) -> FullTextDDL:
    """The full-text index of a table of search documents, per database: an FTS5 table `fts`
    kept by triggers on SQLite, a generated weighted tsvector column with a GIN index on
    PostgreSQL. Created with the tables (`create_all`) and by migrations 0009 and 0015."""
    return {
        "sqlite": (
            f"CREATE VIRTUAL TABLE {fts} USING fts5(title, body, content='{table}', "
            "content_rowid='id', tokenize='porter unicode61 remove_diacritics 0')",
            _fts_insert_trigger(table, fts),
            f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); END",
            f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); "
            f"INSERT INTO {fts}(rowid, title, body) VALUES (new.id, new.title, new.body); END",
        ),
        "postgresql": (
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(setweight(to_tsvector('english', title), 'A') "
            "|| setweight(to_tsvector('english', body), 'B')) STORED",
            f"CREATE INDEX ix_{table}_fts ON {table} USING gin (search_vector)",
        ),
    }


def full_text_drop_ddl(table: str, fts: str) -> FullTextDDL:
    return {
        "sqlite": (
            f"DROP TRIGGER IF EXISTS {table}_au",
            f"DROP TRIGGER IF EXISTS {table}_ad",
            f"DROP TRIGGER IF EXISTS {table}_ai",
            f"DROP TABLE IF EXISTS {fts}",
        ),
        "postgresql": (f"DROP INDEX IF EXISTS ix_{table}_fts",),
    }


def _fts_insert_trigger(table: str, fts: str) -> str:
    return (
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, title, body) VALUES (new.id, new.title, new.body); END"
    )


SQLITE_SEARCH_INSERT_TRIGGER = _fts_insert_trigger("search_document", "search_fts")
SEARCH_DDL = full_text_ddl("search_document", "search_fts")
SEARCH_DROP_DDL = full_text_drop_ddl("search_document", "search_fts")
PENDING_SEARCH_DDL = full_text_ddl("pending_search_document", "pending_search_fts")
PENDING_SEARCH_DROP_DDL = full_text_drop_ddl("pending_search_document", "pending_search_fts")


def _add_full_text_ddl(table: Any, create: FullTextDDL, drop: FullTextDDL) -> None:
    for event, ddl in (("after_create", create), ("before_drop", drop)):
        for dialect, statements in ddl.items():
            for statement in statements:
                action = sa.DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]
                sa.event.listen(table, event, action)


_add_full_text_ddl(SearchDocument.__table__, SEARCH_DDL, SEARCH_DROP_DDL)  # type: ignore[attr-defined]
_add_full_text_ddl(
    PendingSearchDocument.__table__,  # type: ignore[attr-defined]
    PENDING_SEARCH_DDL,
    PENDING_SEARCH_DROP_DDL,
)


def is_schema_object(name: str | None, type_: str, _parent: Any = None) -> bool:
    """False for the full-text index objects, which the models do not describe (an Alembic
    `include_name` hook: autogenerate and schema comparisons leave them alone)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(("search_fts", "pending_search_fts"))
    if type_ == "column":
        return name != "search_vector"
    return name not in {"ix_search_document_fts", "ix_pending_search_document_fts"}


class ApiToken(SQLModel, table=True):
    """An API token. Only the SHA-256 of the secret is kept: a leaked table grants nothing."""

    __tablename__: ClassVar[str] = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(description="Space-separated scope names.")
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    expires_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class Partner(SQLModel, table=True):
    """A site that syndicates snippets. Its key is kept as a SHA-256 hash, like an API token's;
    requests carrying it are let through only from its allowed origins, at its own rate."""

    __tablename__: ClassVar[str] = "partner"
    __table_args__ = (sa.CheckConstraint("rate_limit > 0", name="partner_rate_limit_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    origins: str = Field(
        default="", description="Space-separated origins, e.g. https://acme.example."
    )
    rate_limit: int = Field(default=600, description="Requests per minute.")
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    revoked_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class PartnerUsage(SQLModel, table=True):
    """How many times one benefit snippet was served to one partner on one (UTC) day. Keyless
    traffic is counted with no partner. Read totals with SUM: keyless rows may be split."""

    __tablename__: ClassVar[str] = "partner_usage"
    __table_args__ = (
        sa.UniqueConstraint(
            "partner_id", "article_slug", "benefit_slug", "day", name="uq_partner_usage_key"
        ),
        sa.CheckConstraint("count >= 0", name="partner_usage_count_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id", ondelete="CASCADE")
    article_slug: str = Field(max_length=100)
    benefit_slug: str = Field(max_length=100)
    day: date
    count: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))


class Revision(SQLModel, table=True):
    """A full snapshot of an article as saved, one per version. Kept after the article is
    deleted (its `article_id` then becomes null; the slug remains)."""

    __tablename__: ClassVar[str] = "revision"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "version", name="uq_revision_article_version"),
        sa.Index("ix_revision_article_slug", "article_slug", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int | None = Field(default=None, foreign_key="article.id", ondelete="SET NULL")
    article_slug: str = Field(max_length=100)
    version: int
    action: str = Field(max_length=20)
    actor: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    snapshot: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # Content rules overridden by this save: {"rules": [...], "reason": "..."}.
    override: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    # A save of the article's pending version (`PendingVersion`), not of what the public sees.
    pending: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )


class PendingVersion(SQLModel, table=True):
    """The edited, not yet published version of a published article (`cms.working_copies`): the
    whole document, validated. The article's own rows stay the live version."""

    __tablename__: ClassVar[str] = "pending_version"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE", unique=True)
    # Null once published or discarded: the row stays, keeping the highest version handed out.
    document: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    # The version editors edit (`expectedVersion`), and the live version it was started from.
    version: int
    base_version: int
    # Set by a scheduled publication: the pending version goes live at this time.
    publish_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), index=True)
    )
    unpublish_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    created_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class OutboxEvent(SQLModel, table=True):
    """A content change, written in the transaction that made it. `revision` is the content
    revision the change took (`ContentState`): unlike ids, revisions are handed out in commit
    order, so a reader that has seen revision N has seen every change up to N (the change feed's
    cursor)."""

    __tablename__: ClassVar[str] = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    revision: int = Field(
        sa_column=sa.Column(sa.BigInteger, nullable=False, unique=True, index=True)
    )
    event_type: str = Field(max_length=40)
    article_slug: str = Field(max_length=100, index=True)
    article_version: int
    idempotency_key: str = Field(max_length=36, unique=True)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    payload: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # Set once the webhook dispatcher has made this event's deliveries. A flag on the event, not
    # a cursor over ids: ids are taken before commit, so they do not commit in order.
    fanned_out_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), index=True)
    )


class WebhookEndpoint(SQLModel, table=True):
    """A URL that receives the events it subscribes to. The secret is stored in clear: the
    dispatcher needs it to sign every delivery, so unlike API tokens it cannot be a hash."""

    __tablename__: ClassVar[str] = "webhook_endpoint"
    __table_args__ = (sa.CheckConstraint("length(event_types) > 0", name="webhook_has_events"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=200)
    event_types: str = Field(description="Space-separated event types, e.g. article.published.")
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint, and how sending it went. `next_attempt_at` is when a pending
    delivery is due, or when a claimed attempt's lease runs out."""

    __tablename__: ClassVar[str] = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_delivery_event_endpoint"),
        sa.Index("ix_webhook_delivery_status_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="outbox_event.id", ondelete="CASCADE")
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", ondelete="CASCADE", index=True)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_column=_enum_column(DeliveryStatus, "delivery_status")
    )
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class ContentState(SQLModel, table=True):
    """One row: the content revision, bumped by every content write in its own transaction.

    A counter rather than the newest outbox id: ids are handed out before commit, so on
    PostgreSQL a transaction can commit after one with a higher id and leave the maximum
    unchanged. Updating this row takes its lock until commit, so revisions follow commit order.
    """

    __tablename__: ClassVar[str] = "content_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="content_state_single_row"),)

    id: int = Field(default=1, primary_key=True)
    revision: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))
