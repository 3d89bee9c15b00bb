"""The domain's enums, registered with Strawberry once, with their descriptions.

Every GraphQL module imports this before using an enum: a plain enum used first in an input
would otherwise be registered without its description, and registering it again fails.
"""

from __future__ import annotations

import strawberry

from cms import models
from cms.rich_text import LinkKind
from cms.text import TextFormat

__all__ = ["ArticleStatus", "LinkKind", "SearchPart", "SectionKind", "TextFormat", "TipKind"]

strawberry.enum(
    TextFormat,
    name="TextFormat",
    description="How prose is returned: the Markdown source, sanitised HTML, or plain text.",
)
strawberry.enum(LinkKind, description="What a link in prose addresses.")
_LINK_KINDS = {
    LinkKind.ARTICLE: "An article of this CMS (`articleSlug`).",
    LinkKind.BENEFIT: "A benefit of an article of this CMS (`benefitSlug`, and `articleSlug` "
    "unless it is the same article).",
    LinkKind.EXTERNAL: "Any other http(s) address.",
}
for _value in LinkKind.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _LINK_KINDS[LinkKind[_value.name]]
strawberry.enum(models.ArticleStatus, description="Where an article is in its life.")
strawberry.enum(
    models.SectionKind,
    description="What a section introduces: standalone prose, or the lead-in of a list.",
)
strawberry.enum(models.TipKind, description="Whether a tip is about food or water.")
strawberry.enum(models.SearchPart, description="A part of an article that search looks in.")

ArticleStatus = models.ArticleStatus
SearchPart = models.SearchPart
SectionKind = models.SectionKind
TipKind = models.TipKind
