"""Content lint: editorial rules for seed files beyond schema validity.

Pure functions over parsed documents; `lint_paths` reads the files, and the CLI only prints.
Every finding names its file, line, field path and rule, with a severity: an error fails
`cms lint`, a warning only does under `--strict`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from cms import seo
from cms.content_model import ITEM_KINDS, Role
from cms.documents import ArticleDocument, Location, TranslationDocument, field_path
from cms.errors import InvalidContent
from cms.seed_files import (
    LineIndex,
    SeedFile,
    cross_file_problems,
    discover_seed_files,
    nearest_line,
    parse_document_with_lines,
)
from cms.text import to_text

__all__ = [
    "DEFAULT_ABSOLUTE_CLAIMS",
    "Finding",
    "LintedFile",
    "LintRules",
    "Rule",
    "Severity",
    "check_document",
    "lint_documents",
    "lint_paths",
    "reading_grade",
]

DEFAULT_ABSOLUTE_CLAIMS: tuple[str, ...] = (
    "cures", "cure", "guaranteed", "100% safe", "miracle", "no side effects",
)  # fmt: skip
_ARTICLE_PATH = re.compile(r"^/articles/([^/]+)/?$")
_BLOCK_INDICATOR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")
_markdown = MarkdownIt("commonmark", {"html": False})


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Rule(enum.StrEnum):
    INVALID = "invalid"
    MISSING_PRECAUTIONS = "missing-precautions"
    THIN_BENEFIT = "thin-benefit"
    ABSOLUTE_CLAIM = "absolute-claim"
    REVIEW_MISSING = "review-missing"
    REVIEW_OVERDUE = "review-overdue"
    DUPLICATE_BENEFIT_TITLE = "duplicate-benefit-title"
    BROKEN_LINK = "broken-link"
    META_TITLE_LENGTH = "meta-title-length"
    META_DESCRIPTION_LENGTH = "meta-description-length"
    BENEFIT_WITHOUT_SOURCE = "benefit-without-source"
    READING_LEVEL = "reading-level"
    # Only on writes, with CMS_REQUIRE_REVIEW: publishing needs a current review.
    REVIEW_REQUIRED = "review-required"
    STALE_TRANSLATION = "stale-translation"


_SEVERITY = {
    Rule.REVIEW_MISSING: Severity.WARNING,
    Rule.REVIEW_OVERDUE: Severity.WARNING,
    Rule.META_TITLE_LENGTH: Severity.WARNING,
    Rule.META_DESCRIPTION_LENGTH: Severity.WARNING,
    Rule.BENEFIT_WITHOUT_SOURCE: Severity.WARNING,
    Rule.READING_LEVEL: Severity.WARNING,
    Rule.STALE_TRANSLATION: Severity.WARNING,
}


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int | None
    field: str
    rule: Rule
    message: str

    @property
    def severity(self) -> Severity:
        return _SEVERITY.get(self.rule, Severity.ERROR)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}: {self.severity} [{self.rule}]{field} {self.message}"


@dataclass(frozen=True)
class LintRules:
    """The configurable parts of the rules."""

    absolute_claims: Sequence[str] = DEFAULT_ABSOLUTE_CLAIMS
    review_max_age_days: int = 365
    max_reading_grade: float = 8.0
    site_url: str = ""
    today: date = field(default_factory=date.today)
    # False: only rules that can find errors run (for a caller that drops warnings: `cms seed`).
    warnings: bool = True


@dataclass(frozen=True)
class LintedFile:
    """A schema-valid file: its document, its line index and its text (for lines inside prose)."""

    path: Path
    document: ArticleDocument
    lines: LineIndex
    text: str

    def line_of(self, location: Location, offset: int | None = None) -> int | None:
        """The line of a field's key; with `offset`, of that line within its (prose) value."""
        line = nearest_line(self.lines, location)
        if line is None or offset is None:
            return line
        # A block scalar (`body: |`) starts on the line after its key.
        return line + offset + (1 if self._is_block(line) else 0)

    def _is_block(self, line: int) -> bool:
        text_lines = self.text.splitlines()
        return 0 < line <= len(text_lines) and bool(_BLOCK_INDICATOR.search(text_lines[line - 1]))


def lint_paths(paths: Iterable[Path], rules: LintRules) -> list[Finding]:
    """Lint every seed file below `paths`: schema problems as `invalid` findings, then the
    editorial rules over the files that are valid. Sorted by file, line."""
    findings: list[Finding] = []
    try:
        files = discover_seed_files(paths)
    except InvalidContent as error:
        return [_invalid(p.file, p.line, p.field, p.message) for p in error.problems]
    linted: list[LintedFile] = []
    # Translations take part in the checks between files; the editorial rules read the article.
    translations: list[SeedFile] = []
    for path in files:
        try:
            text = path.read_text("utf-8")
            document, lines = parse_document_with_lines(text, str(path))
        except InvalidContent as error:
            findings.extend(_invalid(p.file, p.line, p.field, p.message) for p in error.problems)
        except (OSError, UnicodeDecodeError) as error:
            findings.append(_invalid(str(path), None, "", f"cannot be read: {error}"))
        else:
            if isinstance(document, TranslationDocument):
                translations.append(SeedFile(path, document, lines))
            else:
                linted.append(LintedFile(path, document, lines, text))
    seed_files = [SeedFile(f.path, f.document) for f in linted] + translations
    findings.extend(
        _invalid(p.file, p.line, p.field, p.message) for p in cross_file_problems(seed_files)
    )
    findings.extend(lint_documents(linted, rules))
    return sorted(findings, key=lambda f: (f.file, f.line or 0, f.field, f.rule))


def _invalid(file: str, line: int | None, field: str, message: str) -> Finding:
    return Finding(file, line, field, Rule.INVALID, message)


def check_document(document: ArticleDocument, rules: LintRules) -> list[Finding]:
    """The editorial rules over one document being saved (no file: findings have a field path
    and no line). Links to other articles are not checked: that needs every article."""
    linted = LintedFile(Path(document.slug), document, {}, "")
    return lint_documents([linted], rules, check_links=False)


def lint_documents(
    files: Sequence[LintedFile], rules: LintRules, *, check_links: bool = True
) -> list[Finding]:
    """The editorial rules over valid documents; links are checked against these files' slugs."""
    slugs = {f.document.slug for f in files}
    claims = _claims_pattern(rules.absolute_claims)
    findings: list[Finding] = []
    warnings = rules.warnings
    for linted in files:
        findings.extend(_missing_precautions(linted))
        findings.extend(_thin_benefits(linted))
        findings.extend(_duplicate_benefit_titles(linted))
        if warnings:
            findings.extend(_unsourced_benefits(linted))
            findings.extend(_review(linted, rules))
            findings.extend(_meta_lengths(linted))
        for location, value, is_prose in _texts(linted.document):
            if claims is not None:
                findings.extend(_absolute_claims(linted, location, value, claims))
            if is_prose and warnings:
                findings.extend(_reading_level(linted, location, value, rules))
            if is_prose and check_links:
                findings.extend(_broken_links(linted, location, value, slugs, rules.site_url))
    return findings


def _finding(
    linted: LintedFile, location: Location, rule: Rule, message: str, offset: int | None = None
) -> Finding:
    return Finding(
        str(linted.path), linted.line_of(location, offset), field_path(location), rule, message
    )


def _missing_precautions(linted: LintedFile) -> Iterator[Finding]:
    document = linted.document
    published = [p for p in document.precautions if not p.draft]
    if any(not b.draft for b in document.benefits) and not published:
        yield _finding(
            linted, ("benefits",), Rule.MISSING_PRECAUTIONS,
            "the article states benefits but has no published precautions; a benefit never "
            "travels without its safety context",
        )  # fmt: skip


def _thin_benefits(linted: LintedFile) -> Iterator[Finding]:
    for index, benefit in enumerate(linted.document.benefits):
        words = len(benefit.body.split())
        if words <= 1:
            what = "empty" if words == 0 else "one word"
            yield _finding(
                linted, ("benefits", index, "body"), Rule.THIN_BENEFIT,
                f"the body is {what}; say what the benefit is and why",
            )  # fmt: skip


def _duplicate_benefit_titles(linted: LintedFile) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, benefit in enumerate(linted.document.benefits):
        key = benefit.title.casefold()
        if key in first:
            yield _finding(
                linted, ("benefits", index, "title"), Rule.DUPLICATE_BENEFIT_TITLE,
                f"title {benefit.title!r} repeats benefits[{first[key]}].title",
            )  # fmt: skip
        first.setdefault(key, index)


def _unsourced_benefits(linted: LintedFile) -> Iterator[Finding]:
    for index, benefit in enumerate(linted.document.benefits):
        if not benefit.draft and not benefit.citations:
            yield _finding(
                linted, ("benefits", index, "citations"), Rule.BENEFIT_WITHOUT_SOURCE,
                f"benefit {benefit.slug!r} cites no source; every claim needs one",
            )  # fmt: skip


def _review(linted: LintedFile, rules: LintRules) -> Iterator[Finding]:
    review = linted.document.review
    if review is None:
        yield _finding(
            linted, ("slug",), Rule.REVIEW_MISSING,
            "no review: the article has no recorded medical review",
        )  # fmt: skip
        return
    reviewed = review.reviewed_on
    due = review.next_review_due or reviewed + timedelta(days=rules.review_max_age_days)
    if rules.today > due:
        age = (rules.today - reviewed).days
        yield _finding(
            linted, ("review", "reviewed_on"), Rule.REVIEW_OVERDUE,
            f"last reviewed {reviewed.isoformat()}, {age} days ago; a review was due by "
            f"{due.isoformat()}",
        )  # fmt: skip


_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_MIN_WORDS_FOR_GRADE = 30


def reading_grade(text: str) -> float | None:
    """The Flesch–Kincaid grade level of plain English text; None when it is too short to say."""
    words = _WORD.findall(text)
    if len(words) < _MIN_WORDS_FOR_GRADE:
        return None
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    syllables = sum(map(_syllables, words))
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


# Words recur across an article and a seed's thousands (each save is checked: `cms.gate`).
@lru_cache(maxsize=65_536)
def _syllables(word: str) -> int:
    word = word.lower()
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1  # a silent final e
    return max(1, count)


def _reading_level(
    linted: LintedFile, location: Location, value: str, rules: LintRules
) -> Iterator[Finding]:
    grade = reading_grade(to_text(value))
    if grade is not None and grade > rules.max_reading_grade:
        yield _finding(
            linted, location, Rule.READING_LEVEL,
            f"reads at grade {grade:.1f} (Flesch-Kincaid); aim for grade "
            f"{rules.max_reading_grade:g} or below: shorter sentences, plainer words",
        )  # fmt: skip


def _meta_lengths(linted: LintedFile) -> Iterator[Finding]:
    """Meta texts search engines would cut off (or that say too little); empty ones fall back."""
    title, description = linted.document.meta_title, linted.document.meta_description
    if len(title) > seo.META_TITLE_LENGTH:
        yield _finding(
            linted, ("meta_title",), Rule.META_TITLE_LENGTH,
            f"{len(title)} characters; search engines show about {seo.META_TITLE_LENGTH}",
        )  # fmt: skip
    low, high = seo.META_DESCRIPTION_MIN, seo.META_DESCRIPTION_LENGTH
    if description and not low <= len(description) <= high:
        yield _finding(
            linted, ("meta_description",), Rule.META_DESCRIPTION_LENGTH,
            f"{len(description)} characters; search engines show {low} to {high}",
        )  # fmt: skip


def _texts(document: ArticleDocument) -> Iterator[tuple[Location, str, bool]]:
    """Every title and prose field: (location, value, is Markdown prose)."""
    yield ("title",), document.title, False
    yield ("headline",), document.headline, False
    yield ("meta_title",), document.meta_title, False
    yield ("meta_description",), document.meta_description, False
    yield ("intro",), document.intro, True
    for kind in ITEM_KINDS:
        for index, item in enumerate(document.items(kind)):
            for name, role in kind.text_fields.items():
                yield (kind.list_name, index, name), getattr(item, name), role is Role.PROSE
    if document.conclusion is not None:
        yield ("conclusion", "title"), document.conclusion.title, False
        yield ("conclusion", "body"), document.conclusion.body, True


def _claims_pattern(claims: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({c.strip() for c in claims if c.strip()}, key=len, reverse=True)
    if not words:
        return None
    # Whole words only: "cure" is a claim, "secure" is not.
    return re.compile(
        r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE
    )


def _absolute_claims(
    linted: LintedFile, location: Location, value: str, claims: re.Pattern[str]
) -> Iterator[Finding]:
    for match in claims.finditer(value):
        yield _finding(
            linted, location, Rule.ABSOLUTE_CLAIM,
            f"absolute claim {match.group(0)!r}; health content states what evidence supports, "
            "never certainty",
            offset=value.count("\n", 0, match.start()),
        )  # fmt: skip


def _broken_links(
    linted: LintedFile, location: Location, value: str, slugs: set[str], site_url: str
) -> Iterator[Finding]:
    base = f"/articles/{linted.document.slug}"
    for href, offset in _links(value):
        slug = _article_slug(href, base, site_url)
        if slug is not None and slug not in slugs:
            yield _finding(
                linted, location, Rule.BROKEN_LINK,
                f"link {href!r} points to article {slug!r}, which no linted file holds",
                offset=offset,
            )  # fmt: skip


def _links(markdown: str) -> Iterator[tuple[str, int]]:
    """Every link's href with its line (0-based, within the text): the first line of its block
    that shows the href, searching on from the previous link's. Images are skipped."""
    text_lines = markdown.splitlines()
    for token in _markdown.parse(markdown):
        start, end = token.map if token.map else (0, len(text_lines))
        for child in _inline_children(token):
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str):
                start = next((n for n in range(start, end) if href in text_lines[n]), start)
                yield href, start


def _inline_children(token: Token) -> list[Token]:
    return list(token.children or []) if token.type == "inline" else []


def _article_slug(href: str, base: str, site_url: str) -> str | None:
    """The article slug a link addresses on this site (absolute, site-relative or relative to the
    linking article), or None for links elsewhere."""
    if site_url and href.startswith(site_url + "/"):
        href = href[len(site_url) :]
    parts = urlsplit(urljoin(base, href))
    if parts.scheme or parts.netloc:
        return None
    match = _ARTICLE_PATH.match(parts.path)
    return match.group(1) if match else None
