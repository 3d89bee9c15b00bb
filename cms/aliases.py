"""Slug aliases: the slugs articles and benefits had before a rename, so that every link made
with an old slug (embeds, oEmbed URLs, API calls) keeps leading to the same content.

Reads never pay for aliases: callers look one up only after a slug was not found. Writes keep
them: a rename records the old slug, and an old slug cannot name anything else.

A benefit renamed in a published article's pending version (`cms.working_copies`) keeps its old
slug live until the rename is published: its alias is recorded at once (so the old slug cannot
be taken meanwhile) but is never looked up while the live article still has that slug, and the
rename is announced, and older aliases follow it, only when it goes live
(`publish_benefit_renames`, from the live write).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from cms.content_model import BENEFIT
from cms.db import ReadSession, WriteSession
from cms.errors import SlugIsAlias
from cms.events import EventType
from cms.models import AliasKind, Article, Benefit, SlugAlias, utc_now
from cms.outbox import Rename, record_event
from cms.visibility import article_is_public
from cms.working_copies import has_pending, pending_of

__all__ = [
    "canonical_article_slug",
    "canonical_benefit",
    "check_article_slug",
    "check_new_article_slugs",
    "check_new_item_slugs",
    "publish_benefit_renames",
    "record_article_rename",
    "record_benefit_rename",
]


def _article_by_alias(slug: str, *, include_drafts: bool) -> Any:
    statement = (
        select(Article.id, Article.slug)
        .join(SlugAlias, col(SlugAlias.article_id) == col(Article.id))
        .where(col(SlugAlias.kind) == AliasKind.ARTICLE, col(SlugAlias.old_slug) == slug)
    )
    return statement if include_drafts else statement.where(article_is_public(utc_now()))


async def canonical_article_slug(
    session: ReadSession, *, slug: str, include_drafts: bool
) -> str | None:
    """The slug now of the article (one the caller may see) that had `slug` before a rename."""
    row = (await session.exec(_article_by_alias(slug, include_drafts=include_drafts))).first()
    return None if row is None else str(row[1])


async def canonical_benefit(
    session: ReadSession, *, article: str, benefit: str, include_drafts: bool
) -> tuple[str, str] | None:
    """The (article, benefit) slugs now of an address whose article or benefit was renamed
    since; None when neither is an old slug (or the caller may not see the article)."""
    statement: Any = select(Article.id, Article.slug).where(Article.slug == article)
    if not include_drafts:
        statement = statement.where(article_is_public(utc_now()))
    found = (await session.exec(statement)).first()
    if found is None:
        found = (
            await session.exec(_article_by_alias(article, include_drafts=include_drafts))
        ).first()
    if found is None:
        return None
    article_id, article_slug = found
    renamed = (
        await session.exec(
            select(SlugAlias.item_slug).where(
                SlugAlias.kind == AliasKind.BENEFIT,
                SlugAlias.scope == article_id,
                SlugAlias.old_slug == benefit,
            )
        )
    ).first()
    canonical = (str(article_slug), renamed or benefit)
    return canonical if canonical != (article, benefit) else None


async def _alias(session: ReadSession, kind: AliasKind, scope: int, slug: str) -> SlugAlias | None:
    statement = select(SlugAlias).where(
        SlugAlias.kind == kind, SlugAlias.scope == scope, SlugAlias.old_slug == slug
    )
    return (await session.exec(statement)).first()


async def check_article_slug(
    session: WriteSession, slug: str, *, field: str = "slug", article_id: int | None = None
) -> None:
    """Refuse `slug` for an article (other than `article_id`) when it is another article's old
    slug; an article taking back its own old slug drops the alias."""
    alias = await _alias(session, AliasKind.ARTICLE, 0, slug)
    if alias is None:
        return
    if alias.article_id == article_id:
        await session.delete(alias)
        return
    owner = (await session.exec(select(Article.slug).where(Article.id == alias.article_id))).first()
    raise SlugIsAlias(field=field, slug=slug, owner=f"article {owner!r}")


async def check_new_article_slugs(session: WriteSession, slugs: Sequence[str]) -> None:
    """`check_article_slug` for new articles, many at once: refuse the first slug (in the order
    given) that is an article's old slug."""
    aliases: dict[str, SlugAlias] = {}
    for start in range(0, len(slugs), _SLUGS_PER_QUERY):
        statement = select(SlugAlias).where(
            SlugAlias.kind == AliasKind.ARTICLE,
            SlugAlias.scope == 0,
            col(SlugAlias.old_slug).in_(slugs[start : start + _SLUGS_PER_QUERY]),
        )
        aliases.update((alias.old_slug, alias) for alias in (await session.exec(statement)).all())
    for slug in slugs:
        if slug in aliases:
            await check_article_slug(session, slug)


# SQLite allows 32,766 bound parameters in a statement; PostgreSQL 65,535.
_SLUGS_PER_QUERY = 5000


async def check_new_item_slugs(
    session: WriteSession,
    *,
    article_id: int,
    added: Iterable[str],
    kept: Iterable[str],
    free: bool = True,
) -> None:
    """Benefit slugs an edit adds: refused while one is the old slug of a benefit the article
    still has (`kept`); an old slug whose benefit is gone is free again (its alias dropped,
    unless `free` is false: an edit of the pending version leaves the live aliases alone)."""
    added = sorted(added)
    if not added:
        return
    statement = select(SlugAlias).where(
        SlugAlias.kind == AliasKind.BENEFIT,
        SlugAlias.scope == article_id,
        col(SlugAlias.old_slug).in_(added),
    )
    kept = set(kept)
    for alias in (await session.exec(statement)).all():
        if alias.item_slug in kept:
            raise SlugIsAlias(
                field=f"{BENEFIT.list_name}.{alias.old_slug}",
                slug=alias.old_slug,
                owner=f"the benefit {alias.item_slug!r}",
            )
        if free:
            await session.delete(alias)
    await session.flush()


async def record_article_rename(session: WriteSession, article: Article, old_slug: str) -> None:
    """Keep `old_slug` leading to `article` (already saved under its new slug) and announce the
    rename (`article.renamed`)."""
    assert article.id is not None
    session.add(
        SlugAlias(kind=AliasKind.ARTICLE, scope=0, article_id=article.id, old_slug=old_slug)
    )
    await record_event(
        session,
        event_type=EventType.RENAMED,
        article=article,
        occurred_at=article.updated_at,
        rename=Rename("article", old_slug, article.slug),
    )
    await session.flush()


async def record_benefit_rename(
    session: WriteSession, article: Article, old_slug: str, new_slug: str
) -> None:
    """Keep the benefit's `old_slug` (and every older one) leading to `new_slug`, within its
    article, and announce the rename (`article.renamed`). In a pending version the rename
    waits to go live with it (`publish_benefit_renames`)."""
    assert article.id is not None
    if has_pending(await pending_of(session, article.id)):
        await _record_pending_benefit_rename(session, article.id, old_slug, new_slug)
        return
    stale = await _alias(session, AliasKind.BENEFIT, article.id, old_slug)
    if stale is not None and stale.item_slug == new_slug:
        return  # recorded by the live write itself (`publish_benefit_renames`)
    if stale is not None:  # left by a pending rename that was discarded
        await session.delete(stale)
    await _go_live(session, article, old_slug, new_slug, utc_now())
    session.add(
        SlugAlias(
            kind=AliasKind.BENEFIT,
            scope=article.id,
            article_id=article.id,
            item_slug=new_slug,
            old_slug=old_slug,
        )
    )
    await session.flush()


async def _record_pending_benefit_rename(
    session: WriteSession, article_id: int, old_slug: str, new_slug: str
) -> None:
    """The alias of a rename in the pending version, from the benefit's live slug: looked up
    only once the live article no longer has that slug. Nothing else changes until then."""
    live_slugs = select(Benefit.slug).where(Benefit.article_id == article_id)
    live = set((await session.exec(live_slugs)).all())
    # Pending aliases (their old slug is still live) of this benefit: of an earlier rename in
    # the pending version, or left by a discarded one.
    pending_aliases = select(SlugAlias).where(
        SlugAlias.kind == AliasKind.BENEFIT,
        SlugAlias.scope == article_id,
        col(SlugAlias.old_slug).in_(sorted(live)),
        sa.or_(col(SlugAlias.old_slug) == old_slug, col(SlugAlias.item_slug) == old_slug),
    )
    live_slug = old_slug
    for alias in (await session.exec(pending_aliases)).all():
        await session.delete(alias)
        if alias.item_slug == old_slug:  # renamed again before going live
            live_slug = alias.old_slug
    await session.flush()
    old_slug = live_slug
    if old_slug in live and old_slug != new_slug:
        session.add(
            SlugAlias(
                kind=AliasKind.BENEFIT,
                scope=article_id,
                article_id=article_id,
                item_slug=new_slug,
                old_slug=old_slug,
            )
        )
    await session.flush()


async def publish_benefit_renames(
    session: WriteSession,
    article: Article,
    *,
    before: Sequence[str],
    after: Sequence[str],
    now: datetime,
) -> None:
    """The benefit renames a live write makes public (benefit slugs `before` it and `after`):
    those of a pending version being published, recorded as aliases when they were made.
    Older aliases of each renamed benefit now lead to its new slug, and each rename is announced
    (`article.renamed`). No statement unless the write both drops and adds a benefit slug."""
    assert article.id is not None
    removed = sorted(set(before) - set(after))
    added = set(after) - set(before)
    if not removed or not added:
        return
    statement = select(SlugAlias).where(
        SlugAlias.kind == AliasKind.BENEFIT,
        SlugAlias.scope == article.id,
        col(SlugAlias.old_slug).in_(removed),
    )
    for alias in sorted((await session.exec(statement)).all(), key=lambda a: a.old_slug):
        if alias.item_slug is not None and alias.item_slug in added:
            await _go_live(session, article, alias.old_slug, alias.item_slug, now)
    await session.flush()


async def _go_live(
    session: WriteSession, article: Article, old_slug: str, new_slug: str, now: datetime
) -> None:
    """Make every older slug of the benefit lead to `new_slug` and announce the rename."""
    assert article.id is not None
    taken_back = await _alias(session, AliasKind.BENEFIT, article.id, new_slug)
    if taken_back is not None:
        await session.delete(taken_back)
    await session.exec(
        sa.update(SlugAlias)
        .where(
            col(SlugAlias.kind) == AliasKind.BENEFIT,
            col(SlugAlias.scope) == article.id,
            col(SlugAlias.item_slug) == old_slug,
        )
        .values(item_slug=new_slug)
    )
    await record_event(
        session,
        event_type=EventType.RENAMED,
        article=article,
        occurred_at=now,
        rename=Rename("benefit", old_slug, new_slug),
    )
