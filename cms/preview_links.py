"""Preview links: signed, expiring tokens that let someone without an account read one
article's not-yet-public version. A token stands for a principal with preview rights restricted
to that article (`preview_principal`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

import orjson

from cms.access import Principal, Scope
from cms.errors import BadUserInput, Unauthenticated

__all__ = [
    "MAX_EXPIRES_IN",
    "MIN_SECRET_LENGTH",
    "preview_principal",
    "sign_preview",
    "verify_preview",
]

MIN_SECRET_LENGTH = 32
MAX_EXPIRES_IN = timedelta(days=14)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def _usable(secret: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise BadUserInput(
            f"Preview links are off: set CMS_PREVIEW_SECRET (at least {MIN_SECRET_LENGTH} "
            "characters)."
        )
    return secret


def sign_preview(slug: str, expires_at: datetime, secret: str) -> str:
    """`<payload>.<HMAC-SHA256 of it>`, both base64url; the payload names the slug and expiry."""
    body = orjson.dumps({"slug": slug, "exp": int(expires_at.timestamp())})
    payload = _b64(body)
    return f"{payload}.{_mac(payload, _usable(secret))}"


def verify_preview(token: str, secret: str, now: datetime) -> str:
    """The article slug a valid, unexpired token is for; `Unauthenticated` otherwise."""
    payload, _, mac = token.partition(".")
    if not secret or not hmac.compare_digest(mac.encode(), _mac(payload, secret).encode()):
        raise Unauthenticated("The preview link is not valid.")
    try:
        claims = orjson.loads(_unb64(payload))
        slug, expires = str(claims["slug"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("The preview link is not valid.") from None
    if now.timestamp() >= expires:
        raise Unauthenticated("The preview link has expired; ask for a new one.")
    return slug


def preview_principal(slug: str) -> Principal:
    """Who a preview link acts as: a reader of drafts, restricted to one article."""
    return Principal(name=f"preview:{slug}", scopes=frozenset({Scope.READ_DRAFTS}), article=slug)
