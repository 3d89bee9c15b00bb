"""Which `Host` headers the app answers, and the base URL of the absolute URLs it writes: the
configured `CMS_PUBLIC_URL`, else the request's own (its `Host` is on the allow-list)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from cms.settings import Settings

__all__ = ["allowed_hosts", "public_base_url"]


def allowed_hosts(settings: Settings) -> list[str]:
    """`CMS_ALLOWED_HOSTS` and the host of `CMS_PUBLIC_URL`, for `TrustedHostMiddleware`."""
    hosts = list(settings.allowed_hosts)
    if settings.public_url is not None:
        public = urlsplit(settings.public_url).hostname
        if public and public not in hosts:
            hosts.append(public)
    return hosts


def public_base_url(request: Request, public_url: str | None) -> str:
    """Where browsers reach this API (no trailing slash): the configured public URL, else the
    scheme and host the request came with (the proxy's, with `cms serve --proxy-headers`)."""
    return public_url if public_url is not None else str(request.base_url).rstrip("/")
