"""Locales: their spelling, the fallback chain, and reading an article through its translations.

An article is written in its base locale. A translation overlays some of its text fields for one
other locale; every field it leaves out falls back, field by field, along the chain
requested (`de-AT`) -> its language (`de`) -> the article's base locale. Every value read through
a `LocaleView` says which locale it came from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cms.errors import BadUserInput

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALE_PATTERN",
    "LocaleView",
    "LocalizedText",
    "canonical_locale",
    "fallback_chain",
    "parse_locale",
    "same_language",
    "source_hash",
]

DEFAULT_LOCALE = "en"
# BCP 47, the common subset: a language, then an optional script and an optional region
# (`de`, `de-AT`, `zh-Hant-TW`, `es-419`), in canonical case.
LOCALE_PATTERN = r"^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$"
_LOCALE = re.compile(LOCALE_PATTERN)


def canonical_locale(text: str) -> str | None:
    """`de-at` -> `de-AT`, `zh-hant-tw` -> `zh-Hant-TW`; None when it is no locale we accept."""
    parts = text.strip().replace("_", "-").split("-")
    if not parts or not parts[0]:
        return None
    canonical = [parts[0].lower()]
    for part in parts[1:]:
        canonical.append(part.title() if len(part) == 4 else part.upper())
    locale = "-".join(canonical)
    return locale if _LOCALE.match(locale) else None


def parse_locale(text: str) -> str:
    """A locale argument of the API, in canonical case; `BadUserInput` when malformed."""
    locale = canonical_locale(text)
    if locale is None:
        raise BadUserInput(
            f"Invalid locale {text!r}: expected a BCP 47 tag such as `de` or `de-AT`."
        )
    return locale


@lru_cache(maxsize=1024)
def fallback_chain(requested: str | None, base: str) -> tuple[str, ...]:
    """Where a field is looked for, in order: `("de-AT", "de", "en")` for `de-AT` over `en`."""
    chain: list[str] = []
    if requested is not None:
        parts = requested.split("-")
        chain.extend("-".join(parts[:n]) for n in range(len(parts), 0, -1))
    chain.append(base)
    return tuple(dict.fromkeys(chain))


def same_language(a: str, b: str) -> bool:
    """`de` and `de-AT` are one language; `de` and `en` are not."""
    return a == b or a.split("-")[0] == b.split("-")[0]


def source_hash(text: str) -> str:
    """What a translation keeps of the text it translated, to tell when that text changes."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LocalizedText:
    """A text value, the locale it was written in and, for a translation, whether the text it
    translates has changed since (`stale`)."""

    value: str
    locale: str
    stale: bool = False


@dataclass(frozen=True)
class LocaleView:
    """One article as read for one requested locale.

    `translations` maps a locale to its stored overlay (the `ArticleTranslation.document`):
    `{"title": ..., "benefits": {"<slug>": {"title": ..., "body": ...}}, ...}`.
    """

    base: str
    requested: str | None = None
    translations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # By locale: the hash of the source text of each translated field when it was translated,
    # by its path (`title`, `benefits.<slug>.body`; see `ArticleTranslation.source_hashes`).
    source_hashes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def locale(self) -> str:
        """The locale the article as a whole is read for: the one requested, else its base."""
        return self.requested or self.base

    @property
    def chain(self) -> tuple[str, ...]:
        return fallback_chain(self.requested, self.base)

    @property
    def available(self) -> list[str]:
        """The base locale first, then every translation's, sorted."""
        return [self.base, *sorted(self.translations)]

    def article_field(self, name: str, base_value: str) -> LocalizedText:
        return self._pick((name,), base_value)

    def conclusion_field(self, name: str, base_value: str) -> LocalizedText:
        return self._pick(("conclusion", name), base_value)

    def item_field(self, list_name: str, slug: str, name: str, base_value: str) -> LocalizedText:
        return self._pick((list_name, slug, name), base_value)

    def _pick(self, path: tuple[str, ...], base_value: str) -> LocalizedText:
        if not self.translations:  # most reads: nothing to look through
            return LocalizedText(base_value, self.base)
        for locale in self.chain:
            if locale == self.base:
                break
            value: Any = self.translations.get(locale)
            for key in path:
                value = value.get(key) if isinstance(value, Mapping) else None
            if isinstance(value, str) and value:
                known = self.source_hashes.get(locale, {}).get(".".join(path))
                stale = known is not None and known != source_hash(base_value)
                return LocalizedText(value, locale, stale)
        return LocalizedText(base_value, self.base)
