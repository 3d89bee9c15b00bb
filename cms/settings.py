"""Runtime configuration, read once from `CMS_*` environment variables (and a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CMS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///cms.db",
        description="SQLAlchemy URL: sqlite:///path.db (embedded) or postgresql://user@host/db.",
    )
    seed_dir: Path | None = Field(
        default=None,
        description="Folder of content files loaded into an empty database; "
        "defaults to the seed/ folder shipped with the package.",
    )
    env: Literal["development", "production"] = Field(
        default="development",
        description="`production` makes `cms serve` refuse to start without `CMS_SITE_URL`, "
        "wherever it listens; in `development` only a non-loopback `--host` needs it.",
    )
    site_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL of the site (https://www.example.com), used for canonical "
        "links. Required by `cms serve` on a non-loopback host or with `CMS_ENV=production`.",
    )
    public_url: str | None = Field(
        default=None,
        description="Public base URL of this API (https://cms.example.com), used for the "
        "absolute URLs it writes itself: embed pages and their oEmbed links. Unset, they follow "
        "the request, whose `Host` must then be one of `CMS_ALLOWED_HOSTS`.",
    )
    allowed_hosts: list[str] = Field(
        default=["127.0.0.1", "localhost", "testserver", "*.test"],
        description="Host names requests may address (a JSON list; `*.example.com` allows "
        "subdomains); any other `Host` is 400. The host of `CMS_PUBLIC_URL` is always allowed. "
        '`["*"]` allows any, and needs `CMS_PUBLIC_URL`.',
    )
    trusted_proxies: list[str] = Field(
        default=[],
        description="Addresses or networks of the reverse proxies in front (a JSON list, "
        'e.g. `["10.0.0.0/8"]`): from these peers `X-Forwarded-For` names the client that rate '
        "limits count; from any other it is ignored. Also the default of "
        "`cms serve --forwarded-allow-ips`.",
    )
    site_name: str = Field(
        default="Back Walk",
        description="The site's name, credited as the provider of embeds (oEmbed).",
    )
    auto_migrate: bool = Field(
        default=True,
        description="Apply pending schema migrations on `cms serve`/`cms seed`; when false, "
        "refuse to start until `cms db upgrade` has run.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL: the most connections in each of a worker's two pools, one for "
        "public reads (psycopg's own pool) and one for everything else (pinged after 5 s idle). "
        "A request holds one only while a statement (or a write's transaction) runs.",
    )
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description="PostgreSQL: connections opened beyond the pool under load, each closed "
        "again when it comes back (a new server process per use: costly). At 0 a request waits "
        "up to `CMS_DB_POOL_TIMEOUT` for a pooled one.",
    )
    db_pool_timeout: float = Field(
        default=5.0, gt=0, description="PostgreSQL: seconds to wait for a free connection."
    )
    max_page_size: int = Field(
        default=100, ge=1, description="Largest `first`/`last` of a page; more is `BAD_USER_INPUT`."
    )
    max_query_depth: int = Field(
        default=10, ge=1, description="Deepest selection a document may nest (`QUERY_TOO_DEEP`)."
    )
    max_query_tokens: int = Field(
        default=2000,
        ge=1,
        description="Most tokens a document may hold (`TOO_MANY_TOKENS`). Bounds the time one "
        "document holds the event loop while it is validated (~0.1 s at 2,000).",
    )
    max_document_bytes: int = Field(
        default=100_000,
        ge=1,
        description="Largest GraphQL document, in bytes of UTF-8 with comments and whitespace, "
        "refused before it is parsed (`DOCUMENT_TOO_LARGE`, 413).",
    )
    document_cache_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=0,
        description="Memory, in bytes, for parsed documents kept for reuse, and as much again "
        "for automatic persisted queries; the least recently used go first.",
    )
    max_query_aliases: int = Field(
        default=30, ge=1, description="Most aliases a document may use (`TOO_MANY_ALIASES`)."
    )
    max_query_cost: int = Field(
        default=10_000,
        ge=1,
        description="Most nodes (objects with an id) a query may return, estimated before it "
        "runs from the list sizes it asks for (`QUERY_TOO_COSTLY`).",
    )
    query_cost_list_size: int = Field(
        default=10,
        ge=1,
        description="How many nodes the cost estimate counts for a list without `first`.",
    )
    admin_secret_key: SecretStr | None = Field(
        default=None,
        description="Signs web admin sessions. Set it when running several workers or hosts; "
        "left unset, each process makes its own and admin logins last until it restarts.",
    )
    response_cache: bool = Field(
        default=True, description="Reuse finished query responses until content changes."
    )
    compiled_reads: bool = Field(
        default=True,
        description="Answer public queries made only of fields the compiled read path knows "
        "without graphql-core's executor (same answers, less CPU); off: every query is executed "
        "by Strawberry.",
    )
    response_cache_entries: int = Field(
        default=10_000,
        ge=1,
        description="Most responses the response cache holds; the least recently used go first.",
    )
    response_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Memory, in bytes, for cached responses (and as much again for the hot "
        "path's table of anonymous answers); the least recently used go first.",
    )
    http_max_age: int = Field(
        default=0,
        ge=0,
        description="max-age of public GET query responses; 0 makes caches revalidate by ETag.",
    )
    webhooks_dispatch: bool = Field(
        default=True,
        description="Deliver webhooks from a background task of the server process. Turn it "
        "off where another process runs the dispatcher (or `cms webhook deliver`).",
    )
    webhooks_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between passes of the webhook dispatcher."
    )
    webhooks_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait for a webhook receiver to answer."
    )
    webhooks_max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a webhook delivery is given up as dead."
    )
    webhooks_backoff_base: float = Field(
        default=10.0, gt=0, description="Seconds before the first retry; doubles per retry."
    )
    webhooks_backoff_cap: float = Field(
        default=3600.0, gt=0, description="Longest wait between two attempts, in seconds."
    )
    changes_queue_size: int = Field(
        default=100,
        ge=1,
        description="Changes queued for one live subscriber; one that falls further behind is "
        "disconnected (close code 4008) and can resume from the change feed.",
    )
    changes_poll_interval: float = Field(
        default=0.5,
        gt=0,
        description="SQLite only: seconds between checks for changes committed by other "
        "processes on the same file (PostgreSQL pushes them with LISTEN/NOTIFY).",
    )
    max_websockets_per_client: int = Field(
        default=20,
        ge=1,
        description="Open websockets a client IP may hold on one server process; one more is "
        "closed with 4429.",
    )
    max_subscriptions: int = Field(
        default=1000,
        ge=1,
        description="Live subscriptions one server process serves in total; a websocket "
        "starting one more is closed with 4429.",
    )
    websocket_auth_recheck: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between checks that a websocket's token is still valid; a socket "
        "whose token was revoked or has expired is closed with 4403.",
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="Log lines on stderr: `json` (one object a line), `text` (one plain line, "
        "for a person), or `auto`: text on a terminal, JSON in a file, pipe or collector. "
        "Never colour codes. `cms serve --log-format` overrides it.",
    )
    slow_query_ms: float = Field(
        default=200.0,
        description="SQL statements slower than this many milliseconds are logged as warnings "
        "(logger `cms.db.slow`, with the request id); 0 switches the log off.",
    )
    max_body_bytes: int = Field(
        default=256_000,
        ge=1,
        description="Largest request body, and largest websocket message (closed with 1009). "
        "A whole article with every item is a few tens of kB; a larger body is refused before "
        "it is read.",
    )
    request_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a request may run before it is cut off (504)."
    )
    anonymous_rate_limit: int = Field(
        default=120,
        ge=1,
        description="Keyless snippet reads (GraphQL and /embed) a client IP may make per minute; "
        "partners have their own limit, set with `cms partner create --rate-limit`.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db to keep rate-limit counts in, shared by every worker; "
        "unset, each worker counts on its own.",
    )
    redis_prefix: str = Field(
        default="cms", description="Prefix of this deployment's keys in Redis."
    )
    usage_flush_interval: float = Field(
        default=10.0, gt=0, description="Seconds between writes of counted snippet usage."
    )
    lint_absolute_claims: list[str] = Field(
        default=["cures", "cure", "guaranteed", "100% safe", "miracle", "no side effects"],
        description="Words and phrases `cms lint` reports as absolute claims (a JSON list).",
    )
    lint_review_max_age_days: int = Field(
        default=365,
        ge=1,
        description="Days after a seed file's `review.reviewed_on` before `cms lint` warns, "
        "when the review gives no `next_review_due`.",
    )
    review_interval_days: int = Field(
        default=365,
        ge=1,
        description="Days a medical review holds: an approval's `nextReviewDue` is this long "
        "after it; past it the review is OVERDUE.",
    )
    require_review: bool = Field(
        default=False,
        description="Publishing (and any save of a published article) needs a CURRENT medical "
        "review of the text being published.",
    )
    preview_secret: str = Field(
        default="",
        description="The HMAC key that signs preview links (`articlePreviewLink`); at least 32 "
        "characters. Unset, preview links are refused.",
    )
    introspection: bool = Field(
        default=True,
        description="Answer introspection queries; when false they fail with "
        "`INTROSPECTION_DISABLED`.",
    )
    graphiql: bool = Field(
        default=True, description="Serve GraphiQL at `GET /graphql` to browsers."
    )
    trusted_documents: Literal["off", "allow", "only"] = Field(
        default="off",
        description="Trusted documents (persisted operations) from `CMS_TRUSTED_DOCUMENTS_FILE`: "
        "`off` takes no `documentId`; `allow` runs a manifest document by its `documentId` (or "
        "its hash in the `persistedQuery` extension) beside any other query; `only` runs "
        "nothing else (`TRUSTED_DOCUMENT_REQUIRED`, 403), over HTTP and websockets alike.",
    )
    trusted_documents_file: Path | None = Field(
        default=None,
        description="The trusted documents manifest: a JSON object of `sha256:<hex>` hash -> "
        "document, as graphql-codegen's client preset writes it (`persisted-documents.json`). "
        "Read at startup; every hash is checked against its document.",
    )

    @field_validator("admin_secret_key", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value: object) -> object:
        # `CMS_ADMIN_SECRET_KEY=` would otherwise sign nothing and pass for a shared key.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("site_url", "public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value is not None else None

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL, like https://cms.example.com")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ip_network(network, strict=False)  # a ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _trusted_documents_need_their_file(self) -> Settings:
        if self.trusted_documents != "off" and self.trusted_documents_file is None:
            raise ValueError(
                f"CMS_TRUSTED_DOCUMENTS={self.trusted_documents} needs "
                "CMS_TRUSTED_DOCUMENTS_FILE, the manifest of the documents to trust"
            )
        if self.trusted_documents == "off" and self.trusted_documents_file is not None:
            raise ValueError(
                "CMS_TRUSTED_DOCUMENTS_FILE is set but CMS_TRUSTED_DOCUMENTS is off; "
                "set it to allow or only"
            )
        return self

    @model_validator(mode="after")
    def _any_host_needs_a_public_url(self) -> Settings:
        if "*" in self.allowed_hosts and self.public_url is None:
            raise ValueError(
                'CMS_ALLOWED_HOSTS=["*"] lets any Host header into the URLs the API writes; '
                "set CMS_PUBLIC_URL too"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
