"""The types of the events a content change records, as webhooks and the change feed name them.

A module of its own that imports nothing, so that `cms webhook add --help` need not load the
database layer (`cms.outbox` records the events)."""

from __future__ import annotations

import enum

__all__ = ["EventType"]


class EventType(enum.StrEnum):
    PUBLISHED = "article.published"
    UNPUBLISHED = "article.unpublished"
    UPDATED = "article.updated"
    DELETED = "article.deleted"
    # An article or one of its benefits took a new slug; the old one stays an alias.
    RENAMED = "article.renamed"
