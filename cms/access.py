"""Who is asking and what they may do: scopes, and the principal a request acts as."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cms.errors import Forbidden, Unauthenticated

__all__ = ["ANONYMOUS", "Principal", "Scope"]


class Scope(enum.StrEnum):
    READ_DRAFTS = "content:read-drafts"
    WRITE = "content:write"
    PUBLISH = "content:publish"
    REVIEW = "content:review"
    ADMIN = "admin"


# Editing or publishing what you cannot see makes no sense, so those scopes include preview;
# `admin` includes everything.
_IMPLIED: dict[Scope, frozenset[Scope]] = {
    Scope.READ_DRAFTS: frozenset(),
    Scope.WRITE: frozenset({Scope.READ_DRAFTS}),
    Scope.PUBLISH: frozenset({Scope.READ_DRAFTS}),
    Scope.REVIEW: frozenset({Scope.READ_DRAFTS}),
    Scope.ADMIN: frozenset(Scope),
}


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[Scope]
    authenticated: bool = True
    # Set for a preview link's principal: its rights hold for this one article only.
    article: str | None = None

    @property
    def effective_scopes(self) -> frozenset[Scope]:
        return self.scopes.union(*(_IMPLIED[scope] for scope in self.scopes))

    def can(self, scope: Scope) -> bool:
        # A principal restricted to one article may do nothing in general (`may_preview`).
        return self.article is None and scope in self.effective_scopes

    def may_preview(self, slug: str) -> bool:
        """Whether the principal may read the not-yet-public version of the article `slug`."""
        return self.can(Scope.READ_DRAFTS) or (
            self.article == slug and Scope.READ_DRAFTS in self.scopes
        )

    def require(self, scope: Scope) -> None:
        """Raise `Unauthenticated` for anonymous callers, `Forbidden` for a missing scope."""
        if not self.authenticated:
            raise Unauthenticated(
                "This operation needs an API token: send Authorization: Bearer <token>."
            )
        if not self.can(scope):
            raise Forbidden(f"Your token {self.name!r} lacks the scope {scope.value!r}.")


ANONYMOUS = Principal(name="anonymous", scopes=frozenset(), authenticated=False)
