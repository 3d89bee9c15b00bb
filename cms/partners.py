"""Partners: sites that syndicate snippets with a key. Keys are shown once and stored as a hash
(`cms.tokens`' hashing); usage is counted per partner, snippet and day."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import col, select

from cms.db import ReadSession, WriteSession
from cms.errors import BadUserInput, NotFound
from cms.models import Partner, PartnerUsage, utc_now
from cms.tokens import token_hash

__all__ = [
    "KEY_PREFIX",
    "PartnerIdentity",
    "SnippetUsage",
    "UsageKey",
    "add_usage",
    "create_partner",
    "identify_partner",
    "list_partners",
    "normalise_origin",
    "revoke_partner",
    "usage_by_snippet",
    "usage_totals",
]

KEY_PREFIX = "cmsp_"

UsageKey = tuple[int | None, str, str, date]
"""(partner id or None for keyless traffic, article slug, benefit slug, UTC day)."""


@dataclass(frozen=True)
class PartnerIdentity:
    """What a request with a valid key is known by."""

    id: int
    name: str
    origins: frozenset[str]
    rate_limit: int


@dataclass(frozen=True)
class SnippetUsage:
    partner: str | None
    article_slug: str
    benefit_slug: str
    count: int


def normalise_origin(origin: str) -> str:
    """`HTTPS://Acme.example/` -> `https://acme.example`; refuse anything that is not a bare
    http(s) origin (a path, a query or a wildcard would never match a browser's Origin)."""
    parts = urlsplit(origin.strip())
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not parts.hostname
        or "*" in origin
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise BadUserInput(
            f"{origin!r} is not an origin; give scheme and host, e.g. https://acme.example"
        )
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{port}"


async def create_partner(
    session: WriteSession, *, name: str, origins: Iterable[str], rate_limit: int
) -> tuple[Partner, str]:
    """Store a partner and return it with its key, which is not kept and cannot be shown again."""
    allowed = sorted({normalise_origin(o) for o in origins})
    if not name.strip():
        raise BadUserInput("A partner needs a name.")
    if not allowed:
        raise BadUserInput("A partner needs at least one allowed origin.")
    if rate_limit < 1:
        raise BadUserInput("The rate limit is requests per minute and must be at least 1.")
    if (await session.exec(select(Partner).where(Partner.name == name))).first():
        raise BadUserInput(f"A partner named {name!r} exists already.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    partner = Partner(
        name=name, key_hash=token_hash(key), origins=" ".join(allowed), rate_limit=rate_limit
    )
    session.add(partner)
    await session.flush()
    return partner, key


async def list_partners(session: ReadSession) -> list[Partner]:
    return list((await session.exec(select(Partner).order_by(col(Partner.name)))).all())


async def revoke_partner(session: WriteSession, *, name: str) -> Partner:
    partner = (await session.exec(select(Partner).where(Partner.name == name))).first()
    if partner is None:
        raise NotFound(f"No partner named {name!r}.")
    partner.revoked_at = partner.revoked_at or utc_now()
    session.add(partner)
    await session.flush()
    return partner


async def identify_partner(session: ReadSession, key: str) -> PartnerIdentity | None:
    """The partner a key belongs to, or None when it is unknown or revoked (one statement)."""
    partner = (
        await session.exec(select(Partner).where(Partner.key_hash == token_hash(key)))
    ).first()
    if partner is None or partner.revoked_at is not None:
        return None
    assert partner.id is not None
    return PartnerIdentity(
        id=partner.id,
        name=partner.name,
        origins=frozenset(partner.origins.split()),
        rate_limit=partner.rate_limit,
    )


async def add_usage(session: WriteSession, counts: Mapping[UsageKey, int]) -> None:
    """Add counts to the stored ones: update the day's row, or insert it when there is none.

    A concurrent insert of the same partner row fails the transaction on the unique constraint,
    and the caller keeps the counts for its next try. Keyless rows (partner NULL) are not unique
    in SQL, so two processes may each insert one: totals are always read with SUM.
    """
    for (partner_id, article_slug, benefit_slug, day), count in counts.items():
        partner = col(PartnerUsage.partner_id)
        updated = await session.exec(
            sa.update(PartnerUsage)
            .where(
                partner.is_(None) if partner_id is None else partner == partner_id,
                col(PartnerUsage.article_slug) == article_slug,
                col(PartnerUsage.benefit_slug) == benefit_slug,
                col(PartnerUsage.day) == day,
            )
            .values(count=PartnerUsage.count + count)
        )
        if updated.rowcount == 0:
            await session.exec(
                sa.insert(PartnerUsage).values(
                    partner_id=partner_id,
                    article_slug=article_slug,
                    benefit_slug=benefit_slug,
                    day=day,
                    count=count,
                )
            )


async def usage_totals(session: ReadSession) -> dict[int, int]:
    """Snippets served per partner id, all days."""
    rows = await session.exec(
        select(PartnerUsage.partner_id, sa.func.sum(PartnerUsage.count))
        .where(col(PartnerUsage.partner_id).is_not(None))
        .group_by(col(PartnerUsage.partner_id))
    )
    return {partner_id: int(total) for partner_id, total in rows.all() if partner_id is not None}


async def usage_by_snippet(session: ReadSession, *, name: str | None = None) -> list[SnippetUsage]:
    """Snippets served per partner and snippet, all days, most used first; keyless traffic
    under partner None. With `name`, that partner's only."""
    statement = (
        select(
            Partner.name,
            PartnerUsage.article_slug,
            PartnerUsage.benefit_slug,
            sa.func.sum(PartnerUsage.count),
        )
        .select_from(PartnerUsage)
        .outerjoin(Partner, col(Partner.id) == col(PartnerUsage.partner_id))
        .group_by(col(Partner.name), col(PartnerUsage.article_slug), col(PartnerUsage.benefit_slug))
    )
    if name is not None:
        if (await session.exec(select(Partner.id).where(Partner.name == name))).first() is None:
            raise NotFound(f"No partner named {name!r}.")
        statement = statement.where(Partner.name == name)
    rows = [SnippetUsage(p, a, b, int(n)) for p, a, b, n in (await session.exec(statement)).all()]
    return sorted(rows, key=lambda u: (-u.count, u.partner or "", u.article_slug, u.benefit_slug))
