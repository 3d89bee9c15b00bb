"""The GraphQL side of locales: the `locale` argument and how a type reports where its text
came from (`Localized`, `FieldLocale`). The fallback itself is `cms.locales`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import strawberry

from cms.locales import LocalizedText, parse_locale, same_language

__all__ = ["FieldLocale", "LocaleArgument", "Localized", "requested_locale"]

LocaleArgument = Annotated[
    str | None,
    strawberry.argument(
        description="Read the content in this locale, a BCP 47 tag such as `de` or `de-AT`. "
        "Each text field falls back on its own, to the tag's language (`de`) and then to the "
        "article's own locale; `fieldLocales` says where each value came from. Every nested "
        "field follows it. Default: the article's own locale."
    ),
]


def requested_locale(locale: str | None) -> str | None:
    """The locale argument in canonical case; `BAD_USER_INPUT` when it is no locale."""
    return None if locale is None else parse_locale(locale)


@strawberry.type(description="Where the value of one text field came from.")
class FieldLocale:
    field: str = strawberry.field(description="The field's name in its type, e.g. `title`.")
    locale: str = strawberry.field(description="The locale its value is written in.")
    fallback: bool = strawberry.field(
        description="True when `locale` is another language than the one the item was read "
        "for (not merely another region of it, as `de` for `de-AT`): the field is not "
        "translated yet and fell back."
    )
    stale: bool = strawberry.field(
        default=False,
        description="True when the value is a translation and the text it translates has "
        "changed since it was translated: the translation needs a look.",
    )


@strawberry.interface(
    description="Content read for a locale. Says, field by field, which locale each text came "
    "from, so a frontend can mark (or hide) what is not translated."
)
class Localized:
    locale: str = strawberry.field(
        description="The locale this was read for: the one requested, else the article's own."
    )
    # Each localized text field's source (the locale it is written in, or its text, which knows
    # whether it is stale): `fieldLocales` is made from them only when a query asks for it.
    field_sources: strawberry.Private[Mapping[str, str | LocalizedText]]

    @strawberry.field(
        description="The locale of every localized text field of this type, in field order."
    )
    def field_locales(self) -> list[FieldLocale]:
        return _field_locales(self.locale, **self.field_sources)


def _field_locales(locale: str, **sources: str | LocalizedText) -> list[FieldLocale]:
    """One `FieldLocale` per field of an item read for `locale`, from each field's source: the
    locale its value is written in, or the value itself (which knows whether it is stale)."""
    found = []
    for name, source in sources.items():
        if isinstance(source, LocalizedText):
            written, stale = source.locale, source.stale
        else:
            written, stale = source, False
        fallback = not same_language(written, locale)
        found.append(FieldLocale(field=name, locale=written, fallback=fallback, stale=stale))
    return found
