"""The CMS's own exceptions. Each carries a stable machine-readable `code`.

CMSError
├── NotFound          the thing asked for does not exist (or is not visible to the caller)
├── BadUserInput      a request argument is out of range or malformed (page size, cursor, id)
├── RateLimited       the caller is over its rate limit; says when to retry
├── NotOverWebsocket  a query or mutation sent over the websocket (subscriptions only there)
└── InvalidContent    content failed validation; carries one `ContentProblem` per problem
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BadUserInput",
    "CMSError",
    "Conflict",
    "ContentProblem",
    "Forbidden",
    "InvalidContent",
    "InvalidTransition",
    "NotFound",
    "NotOverWebsocket",
    "RateLimited",
    "Unauthenticated",
]


class CMSError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CMSError):
    code = "NOT_FOUND"


class BadUserInput(CMSError):
    code = "BAD_USER_INPUT"


class RateLimited(CMSError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # graphql-core copies these onto the GraphQL error it wraps this in.
        self.extensions = {"code": self.code, "retryAfter": retry_after}


class NotOverWebsocket(CMSError):
    code = "OPERATION_NOT_OVER_WEBSOCKET"


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

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Conflict(CMSError):
    code = "CONFLICT"

    def __init__(self, *, slug: str, expected_version: int, current_version: int) -> None:
        self.current_version = current_version
        super().__init__(
            f"article {slug!r} is at version {current_version}, not {expected_version}: "
            "someone saved it since you loaded it; reload and apply your change again"
        )


class InvalidTransition(CMSError):
    code = "INVALID_TRANSITION"


class Unauthenticated(CMSError):
    code = "UNAUTHENTICATED"


class Forbidden(CMSError):
    code = "FORBIDDEN"
