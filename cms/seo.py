"""What search engines show of an article: its meta title and meta description, each falling
back (to the title; to the start of the intro as plain text) when the editor left it empty."""

from __future__ import annotations

from cms.text import to_text

__all__ = [
    "META_DESCRIPTION_LENGTH",
    "META_DESCRIPTION_MIN",
    "META_TITLE_LENGTH",
    "meta_description",
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
