"""API tokens: created once and shown once, stored as a hash, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, select

from cms.access import Principal, Scope
from cms.db import ReadSession, WriteSession
from cms.errors import BadUserInput, NotFound
from cms.models import ApiToken, utc_now

__all__ = [
    "authenticate",
    "authenticate_hash",
    "create_token",
    "list_tokens",
    "revoke_token",
    "token_hash",
]

TOKEN_PREFIX = "cms_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(
    session: WriteSession,
    *,
    name: str,
    scopes: Iterable[Scope],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token and return it with its secret, which is not kept and cannot be shown
    again."""
    scope_set = sorted(set(scopes))
    if not scope_set:
        raise BadUserInput("A token needs at least one scope.")
    if (await session.exec(select(ApiToken).where(ApiToken.name == name))).first():
        raise BadUserInput(f"A token named {name!r} exists already.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=_hash(secret),
        scopes=" ".join(scope_set),
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token, secret


async def list_tokens(session: ReadSession) -> list[ApiToken]:
    return list((await session.exec(select(ApiToken).order_by(col(ApiToken.name)))).all())


async def revoke_token(session: WriteSession, *, name: str) -> ApiToken:
    token = (await session.exec(select(ApiToken).where(ApiToken.name == name))).first()
    if token is None:
        raise NotFound(f"No token named {name!r}.")
    token.revoked_at = token.revoked_at or utc_now()
    session.add(token)
    await session.flush()
    return token


def token_hash(secret: str) -> str:
    return _hash(secret)


async def authenticate(session: ReadSession, secret: str) -> Principal | None:
    """The principal a token secret stands for, or None when it is unknown, revoked or expired."""
    return await authenticate_hash(session, _hash(secret))


async def authenticate_hash(session: ReadSession, digest: str) -> Principal | None:
    """Like `authenticate`, from the stored hash (what a signed admin session keeps)."""
    token = (await session.exec(select(ApiToken).where(ApiToken.token_hash == digest))).first()
    # The lookup is by hash, so timing reveals nothing of the secret; compare_digest keeps the
    # final check constant-time as well.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = utc_now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    return Principal(name=token.name, scopes=frozenset(Scope(s) for s in token.scopes.split()))
