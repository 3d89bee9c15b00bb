"""What search engines show of an article: its meta title and meta description, each falling
back (to the title; to the start of the intro as plain text) when the editor left it empty."""

from __future__ import annotations

from dataclasses import dataclass

from cms.locales import LocaleView, LocalizedText
from cms.models import Article
from cms.text import to_text

__all__ = [
    "META_DESCRIPTION_LENGTH",
    "META_DESCRIPTION_MIN",
    "META_TITLE_LENGTH",
    "Meta",
    "meta_description",
    "meta_of",
    "meta_title",
]

# What search engines show before they cut text off; `cms lint` warns beyond (or short of) it.
META_TITLE_LENGTH = 60
META_DESCRIPTION_MIN = 50
META_DESCRIPTION_LENGTH = 160
_ELLIPSIS = "…"


def meta_title(*, title: str, meta_title: str) -> str:
    return meta_title or title


def meta_description(*, intro: str, meta_description: str) -> str:
    """The description, else the intro's plain text: whole when it fits, else cut at a word
    boundary to at most `META_DESCRIPTION_LENGTH` characters, an ellipsis included."""
    if meta_description:
        return meta_description
    text = " ".join(to_text(intro).split())
    if len(text) <= META_DESCRIPTION_LENGTH:
        return text
    cut = text[: META_DESCRIPTION_LENGTH - len(_ELLIPSIS) + 1]
    words = cut.rsplit(" ", 1)[0] if " " in cut else cut[:-1]
    return words.rstrip(" ,;:.-–—") + _ELLIPSIS


@dataclass(frozen=True)
class Meta:
    title: str
    description: str


def meta_of(article: Article, view: LocaleView) -> Meta:
    """The meta texts of `article` read through `view`: a translation's own, else the base
    article's when what it stands for (the title, the intro) is read in the base locale too,
    else the fallback from the text read."""
    title = view.article_field("title", article.title)
    intro = view.article_field("intro", article.intro)
    given_title = view.article_field("meta_title", article.meta_title)
    given_description = view.article_field("meta_description", article.meta_description)
    # A base-locale meta text is no summary of a translated title or intro.
    return Meta(
        title=meta_title(
            title=title.value,
            meta_title=given_title.value if _fits(given_title, title, view) else "",
        ),
        description=meta_description(
            intro=intro.value,
            meta_description=given_description.value
            if _fits(given_description, intro, view)
            else "",
        ),
    )


def _fits(given: LocalizedText, text: LocalizedText, view: LocaleView) -> bool:
    return given.locale != view.base or text.locale == view.base
