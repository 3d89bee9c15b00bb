"""A source of a claim: a citation, validated (DOI syntax, PMID digits, http(s) URLs only).

Citations are data, not prose: they are never translated, and travel with their item to
snippets, embeds, JSON-LD and the API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from cms.text import storable

__all__ = ["Citation", "Citations", "HttpUrl", "citation_url"]

DOI_PATTERN = r"^10\.\d{4,9}/\S+$"
PMID_PATTERN = r"^[1-9]\d{0,9}$"


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) < 10 or " " in value:
        raise ValueError("not an http(s) URL: give an address starting with https://")
    return value


HttpUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_http_url)]
_Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(storable)
]


class Citation(BaseModel):
    """One source: at least one of `doi`, `pmid` and `url`, and a title."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
        AfterValidator(storable),
    ] = Field(description="The title of the cited work.")
    doi: Annotated[str, StringConstraints(pattern=DOI_PATTERN, max_length=300)] | None = Field(
        default=None, description="Digital Object Identifier, e.g. `10.1136/bmj.m1234`."
    )
    pmid: Annotated[str, StringConstraints(pattern=PMID_PATTERN)] | None = Field(
        default=None, description="PubMed identifier: digits only, e.g. `31234567`."
    )
    url: HttpUrl | None = Field(default=None, description="Where to read it: an http(s) address.")
    publisher: _Text | None = Field(
        default=None, description="The journal or publisher, e.g. `BMJ`."
    )
    year: Annotated[int, Field(ge=1500, le=2200)] | None = Field(
        default=None, description="The year it was published."
    )
    accessed: date | None = Field(
        default=None, description="When the URL was last read, e.g. 2026-11-20."
    )

    @model_validator(mode="after")
    def _locates_the_source(self) -> Citation:
        if self.doi is None and self.pmid is None and self.url is None:
            raise ValueError("a citation needs at least one of doi, pmid and url")
        return self


Citations = Annotated[
    list[Citation],
    Field(
        max_length=50,
        description="The sources this text rests on, in the order shown. Not translated.",
    ),
]


def citation_url(citation: Citation) -> str:
    """Where a reader can follow the citation: its URL, else its DOI, else its PubMed page."""
    if citation.url:
        return citation.url
    if citation.doi:
        return f"https://doi.org/{citation.doi}"
    return f"https://pubmed.ncbi.nlm.nih.gov/{citation.pmid}/"
