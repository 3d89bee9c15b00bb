"""Every error the CMS raises on purpose, each with a stable `code` and the HTTP `status` it ends
a request with when it stops one outside GraphQL execution (inside a GraphQL result an error is
part of a 200 answer, except `ServiceUnavailable` (503) and `RateLimited` (429)).

CMSError                          code                           status
├── BadRequest                    BAD_REQUEST                    400
│   ├── UnsupportedMediaType      UNSUPPORTED_MEDIA_TYPE         415
│   ├── SubscriptionNotOverHTTP   SUBSCRIPTION_NOT_OVER_HTTP     400
│   └── TrustedDocumentNotFound   TRUSTED_DOCUMENT_NOT_FOUND     400  an unknown `documentId`
├── BadUserInput                  BAD_USER_INPUT                 400  an argument out of range
├── NotFound                      NOT_FOUND                      404
├── MethodNotAllowed              METHOD_NOT_ALLOWED             405  with `Allow`
├── Unauthenticated               UNAUTHENTICATED                401  with `WWW-Authenticate`
├── InvalidPartnerKey             INVALID_PARTNER_KEY            401
├── Forbidden                     FORBIDDEN                      403
├── OriginNotAllowed              ORIGIN_NOT_ALLOWED             403
├── UntrustedDocument             TRUSTED_DOCUMENT_REQUIRED      403  not in the manifest
├── RequestTooLarge               REQUEST_TOO_LARGE              413
│   └── DocumentTooLarge          DOCUMENT_TOO_LARGE             413  before it is parsed
├── RateLimited                   RATE_LIMITED                   429  with `Retry-After`
├── FormatNotImplemented          NOT_IMPLEMENTED                501  (oEmbed's answer)
├── RequestTimeout                TIMEOUT                        504
├── RequestBodyTimeout            REQUEST_BODY_TIMEOUT           408  with `Connection: close`
├── ServiceUnavailable            SERVICE_UNAVAILABLE            503  the database is unreachable
├── PersistedQueryError                                          200  (Apollo's protocol)
│   ├── PersistedQueryNotFound    PERSISTED_QUERY_NOT_FOUND
│   ├── PersistedQueryNotSupported PERSISTED_QUERY_NOT_SUPPORTED
│   └── PersistedQueryMismatch    BAD_USER_INPUT
├── NotOverWebsocket              OPERATION_NOT_OVER_WEBSOCKET   (websocket only)
├── WebsocketClosed                                              a websocket close code instead
│   ├── MessageTooLarge           MESSAGE_TOO_LARGE              close 1009 (413)
│   ├── TooManyWebsockets         TOO_MANY_WEBSOCKETS            close 4429 (429)
│   ├── TooManySubscriptions      TOO_MANY_SUBSCRIPTIONS         close 4429 (429)
│   └── TokenWithdrawn            TOKEN_WITHDRAWN                close 4403 (401)
├── InvalidContent                INVALID_CONTENT                400  one `ContentProblem` each
│   ├── ContentRuleBroken         CONTENT_RULE_BROKEN            400  a lint rule blocks publishing
│   └── SlugIsAlias               SLUG_IS_ALIAS                  400  an old slug, kept for links
├── Conflict                      CONFLICT                       409
└── InvalidTransition             INVALID_TRANSITION             400

GraphQL documents refused before execution carry these codes, set where the error is made
(`cms.graphql.limits`); with `application/graphql-response+json` the answer is 400:
GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, QUERY_TOO_DEEP, TOO_MANY_ALIASES,
TOO_MANY_TOKENS, INTROSPECTION_DISABLED. An unexpected error is INTERNAL_SERVER_ERROR (masked).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "REQUEST_ERROR_CODES",
    "BadRequest",
    "BadUserInput",
    "CMSError",
    "Conflict",
    "ContentProblem",
    "ContentRuleBroken",
    "DocumentTooLarge",
    "Forbidden",
    "FormatNotImplemented",
    "InvalidContent",
    "InvalidPartnerKey",
    "InvalidTransition",
    "MessageTooLarge",
    "MethodNotAllowed",
    "NotFound",
    "NotOverWebsocket",
    "OriginNotAllowed",
    "PersistedQueryError",
    "PersistedQueryMismatch",
    "PersistedQueryNotFound",
    "PersistedQueryNotSupported",
    "RateLimited",
    "RequestBodyTimeout",
    "RequestTimeout",
    "RequestTooLarge",
    "ServiceUnavailable",
    "SlugIsAlias",
    "SubscriptionNotOverHTTP",
    "TokenWithdrawn",
    "TrustedDocumentNotFound",
    "TooManySubscriptions",
    "TooManyWebsockets",
    "Unauthenticated",
    "UnsupportedMediaType",
    "UntrustedDocument",
    "WebsocketClosed",
]

# Errors of a document refused before execution: the request itself is at fault.
REQUEST_ERROR_CODES = frozenset(
    {
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "TOO_MANY_TOKENS",
        "INTROSPECTION_DISABLED",
    }
)


class CMSError(Exception):
    code = "INTERNAL"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def headers(self) -> dict[str, str]:
        """Headers an HTTP answer with this error carries."""
        return {}

    @property
    def extensions(self) -> dict[str, object]:
        # graphql-core copies these onto the GraphQL error it wraps this in.
        return {"code": self.code}


class BadRequest(CMSError):
    code = "BAD_REQUEST"
    status = 400


class UnsupportedMediaType(BadRequest):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415


class SubscriptionNotOverHTTP(BadRequest):
    code = "SUBSCRIPTION_NOT_OVER_HTTP"


class TrustedDocumentNotFound(BadRequest):
    code = "TRUSTED_DOCUMENT_NOT_FOUND"


class UntrustedDocument(CMSError):
    """With `CMS_TRUSTED_DOCUMENTS=only`: a document that is not in the manifest."""

    code = "TRUSTED_DOCUMENT_REQUIRED"
    status = 403


class BadUserInput(CMSError):
    code = "BAD_USER_INPUT"
    status = 400


class NotFound(CMSError):
    code = "NOT_FOUND"
    status = 404


class MethodNotAllowed(CMSError):
    code = "METHOD_NOT_ALLOWED"
    status = 405

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message)
        self.allow = allow

    @property
    def headers(self) -> dict[str, str]:
        return {"allow": self.allow}


class Unauthenticated(CMSError):
    code = "UNAUTHENTICATED"
    status = 401

    @property
    def headers(self) -> dict[str, str]:
        return {"www-authenticate": 'Bearer realm="cms"'}


class InvalidPartnerKey(CMSError):
    code = "INVALID_PARTNER_KEY"
    status = 401


class Forbidden(CMSError):
    code = "FORBIDDEN"
    status = 403


class OriginNotAllowed(CMSError):
    code = "ORIGIN_NOT_ALLOWED"
    status = 403

    @property
    def headers(self) -> dict[str, str]:
        return {"vary": "Origin"}


class RequestTooLarge(CMSError):
    code = "REQUEST_TOO_LARGE"
    status = 413


class DocumentTooLarge(RequestTooLarge):
    code = "DOCUMENT_TOO_LARGE"


class RateLimited(CMSError):
    code = "RATE_LIMITED"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after)}

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "retryAfter": self.retry_after}


class FormatNotImplemented(CMSError):
    code = "NOT_IMPLEMENTED"
    status = 501


class RequestTimeout(CMSError):
    code = "TIMEOUT"
    status = 504


class RequestBodyTimeout(CMSError):
    """The body did not arrive within the request's time limit (a slow client)."""

    code = "REQUEST_BODY_TIMEOUT"
    status = 408

    @property
    def headers(self) -> dict[str, str]:
        return {"connection": "close"}


class ServiceUnavailable(CMSError):
    code = "SERVICE_UNAVAILABLE"
    status = 503
    retry_after = 5

    def __init__(
        self, message: str = "The database is unavailable; try again in a few seconds."
    ) -> None:
        super().__init__(message)

    @property
    def headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after)}


class PersistedQueryError(CMSError):
    # The protocol answers these with 200: the client then sends the whole query.
    status = 200


class PersistedQueryNotFound(PersistedQueryError):
    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryNotSupported(PersistedQueryError):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"


class PersistedQueryMismatch(PersistedQueryError):
    code = "BAD_USER_INPUT"


class NotOverWebsocket(CMSError):
    code = "OPERATION_NOT_OVER_WEBSOCKET"
    status = 400


class WebsocketClosed(CMSError):
    """Ends a websocket: the server closes it with `close_code`, the message as its reason
    (a close reason holds at most 123 bytes)."""

    close_code = 1011


class MessageTooLarge(WebsocketClosed):
    code = "MESSAGE_TOO_LARGE"
    status = 413
    # The standard "message too big", as a size limit of the websocket layer would send it.
    close_code = 1009


class TooManyWebsockets(WebsocketClosed):
    code = "TOO_MANY_WEBSOCKETS"
    status = 429
    close_code = 4429


class TooManySubscriptions(WebsocketClosed):
    code = "TOO_MANY_SUBSCRIPTIONS"
    status = 429
    close_code = 4429


class TokenWithdrawn(WebsocketClosed):
    code = "TOKEN_WITHDRAWN"
    status = 401
    close_code = 4403


@dataclass(frozen=True)
class ContentProblem:
    """One problem in one content file: where it is and what is wrong."""

    file: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InvalidContent(CMSError):
    code = "INVALID_CONTENT"
    status = 400

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ContentRuleBroken(InvalidContent):
    """A save that would make content public breaks editorial rules (`cms.lint`); each problem
    names its rule (`rules`, in the problems' order)."""

    code = "CONTENT_RULE_BROKEN"

    def __init__(self, problems: list[ContentProblem], rules: list[str]) -> None:
        self.rules = rules
        super().__init__(problems)


class SlugIsAlias(InvalidContent):
    """A slug that an article or benefit had before a rename: it still leads there, so it
    cannot name something else."""

    code = "SLUG_IS_ALIAS"

    def __init__(self, *, field: str, slug: str, owner: str) -> None:
        message = (
            f"{slug!r} is an old slug of {owner}, kept so that links to it keep working; "
            "choose another slug"
        )
        super().__init__([ContentProblem("", field, message)])


class Conflict(CMSError):
    code = "CONFLICT"
    status = 409

    def __init__(
        self, *, slug: str, expected_version: int, current_version: int, noun: str = "article"
    ) -> None:
        self.current_version = current_version
        super().__init__(
            f"{noun} {slug!r} is at version {current_version}, not {expected_version}: "
            "someone saved it since you loaded it; reload and apply your change again"
        )


class InvalidTransition(CMSError):
    code = "INVALID_TRANSITION"
    status = 400
