"""The seed file format: YAML on disk <-> validated `ArticleDocument`s and, in files that name
the article they are a `translation_of`, `TranslationDocument`s.

Reading reports every problem of every file at once, each with the file, the field path and the
line, before anything is written. Writing (`dump_document`) emits the canonical layout, so a file
that was written by `cms export` is reproduced byte for byte by seeding and exporting again.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cms.documents import (
    ArticleDocument,
    Location,
    SeedDocument,
    TranslationDocument,
    field_path,
    translation_problems,
    validation_problems,
)
from cms.errors import ContentProblem, InvalidContent

__all__ = [
    "LineIndex",
    "SeedFile",
    "bundled_seed_dir",
    "cross_file_problems",
    "discover_seed_files",
    "nearest_line",
    "dump_document",
    "parse_document",
    "parse_document_with_lines",
    "read_seed_files",
]

SEED_SUFFIXES = (".yaml", ".yml")
SCHEMA_MODELINE = "# yaml-language-server: $schema={schema}\n"

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Location = Location
LineIndex = dict[Location, int]


@dataclass(frozen=True)
class SeedFile:
    path: Path
    document: SeedDocument
    # The line of every field path, for problems found after parsing.
    lines: dict[Location, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, location: Location) -> int | None:
        return nearest_line(self.lines, location)


def bundled_seed_dir() -> Path:
    """The content shipped with the package: `cms/bundled_seed` in an installed wheel, the
    repository's `seed/` folder in a source checkout (editable install)."""
    bundled = Path(str(resources.files("cms"))) / "bundled_seed"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parent.parent / "seed"


def discover_seed_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus every *.yaml/*.yml below each folder, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix in SEED_SUFFIXES and p.is_file())
            )
        elif path.exists():
            found.append(path)
        else:
            raise InvalidContent([ContentProblem(str(path), "", "no such file or folder")])
    return list(dict.fromkeys(found))


def read_seed_files(paths: Sequence[Path]) -> list[SeedFile]:
    """Parse and validate every file; raise one `InvalidContent` listing all problems found."""
    seed_files: list[SeedFile] = []
    problems: list[ContentProblem] = []
    for path in paths:
        try:
            document, lines = parse_document_with_lines(path.read_text("utf-8"), str(path))
            seed_files.append(SeedFile(path, document, lines))
        except InvalidContent as error:
            problems.extend(error.problems)
        except (OSError, UnicodeDecodeError) as error:
            problems.append(ContentProblem(str(path), "", f"cannot be read: {error}"))
    problems.extend(cross_file_problems(seed_files))
    if problems:
        raise InvalidContent(problems)
    return seed_files


def parse_document(text: str, file_name: str) -> SeedDocument:
    return parse_document_with_lines(text, file_name)[0]


def parse_document_with_lines(text: str, file_name: str) -> tuple[SeedDocument, LineIndex]:
    """The document, and the 1-based line of every field path in it (keys where there is one:
    `("benefits", 2, "title")` -> the line of `title:` in the third benefit)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InvalidContent([ContentProblem(file_name, "", "the file is empty", 1)])
        lines: dict[_Location, int] = {}
        problems = _index_lines(node, (), lines, file_name)
        if problems:
            raise InvalidContent(problems)
        data = _construct_document(loader, node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"invalid YAML: {error.problem or error.context}"
        if error.context and error.context_mark is not None and error.problem:
            message += f" ({error.context} started on line {error.context_mark.line + 1})"
        raise InvalidContent([ContentProblem(file_name, "", message, line)]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise InvalidContent(
            [ContentProblem(file_name, "", "the file must hold a mapping of fields", 1)]
        )
    model: type[SeedDocument] = TranslationDocument if "translation_of" in data else ArticleDocument
    try:
        return model.model_validate(data), lines
    except ValidationError as error:
        raise InvalidContent(_validation_problems(error, lines, file_name)) from None


def _index_lines(
    node: yaml.Node, location: _Location, lines: dict[_Location, int], file_name: str
) -> list[ContentProblem]:
    """Record the 1-based line of every value and key path; report keys given twice, which YAML
    parsers otherwise resolve silently by keeping the last."""
    lines[location] = node.start_mark.line + 1
    problems: list[ContentProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*location, key)
            if key in seen:
                problems.append(
                    ContentProblem(
                        file_name,
                        field_path(child),
                        "duplicate key",
                        key_node.start_mark.line + 1,
                    )
                )
            seen.add(key)
            problems.extend(_index_lines(value_node, child, lines, file_name))
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_index_lines(item, (*location, index), lines, file_name))
    return problems


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{name}" for name in ("str", "seq", "map"))
_MERGE = "tag:yaml.org,2002:merge"


def _construct_document(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """The value of the document, as `loader.construct_document` makes it, at a fraction of
    the cost: the plain strings, lists and mappings of seed files are built here, every other
    node by the loader."""
    try:
        return _construct(loader, node)
    except RecursionError:  # an alias inside itself: the loader knows how
        return loader.construct_document(node)


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if node.tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value
    if node.tag == _SEQ and isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item) for item in node.value]
    if node.tag == _MAP and isinstance(node, yaml.MappingNode):
        mapping = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                break  # merge keys: the loader's
            key = _construct(loader, key_node)
            if not isinstance(key, Hashable):
                break  # the loader's error
            mapping[key] = _construct(loader, value_node)
        else:
            return mapping
    return loader.construct_object(node, deep=True)


def _validation_problems(
    error: ValidationError, lines: dict[_Location, int], file_name: str
) -> list[ContentProblem]:
    return [
        ContentProblem(file_name, field_path(location), message, nearest_line(lines, location))
        for location, message in validation_problems(error)
    ]


def nearest_line(lines: LineIndex, location: Location) -> int | None:
    while location not in lines and location:
        location = location[:-1]
    return lines.get(location)


def cross_file_problems(seed_files: Sequence[SeedFile]) -> Iterator[ContentProblem]:
    """Problems between files: an article slug used twice, an author that reads differently."""
    article_files: dict[str, SeedFile] = {}
    authors: dict[str, SeedFile] = {}
    reviewers: dict[str, tuple[Path, int | None, Any]] = {}
    articles: dict[str, ArticleDocument] = {}
    translation_files: dict[tuple[str, str], Path] = {}
    for seed_file in seed_files:
        document = seed_file.document
        if isinstance(document, TranslationDocument):
            key = (document.translation_of, document.locale)
            if key in translation_files:
                yield ContentProblem(
                    str(seed_file.path),
                    "locale",
                    f"{document.translation_of!r} is also translated to {document.locale!r} "
                    f"by {translation_files[key]}",
                    seed_file.line_of(("locale",)),
                )
            translation_files.setdefault(key, seed_file.path)
            continue
        articles.setdefault(document.slug, document)
        first = article_files.setdefault(document.slug, seed_file)
        if first is not seed_file:
            # Two files, one article: seeding would make one overwrite the other.
            yield ContentProblem(
                str(seed_file.path),
                "slug",
                f"article slug {document.slug!r} is also used by {_at(first, ('slug',))}; "
                "give each article its own slug",
                seed_file.line_of(("slug",)),
            )
        first = authors.setdefault(document.author.slug, seed_file)
        assert isinstance(first.document, ArticleDocument)
        if first.document.author != document.author:
            field_name = next(
                name
                for name in ("name", "bio")
                if getattr(first.document.author, name) != getattr(document.author, name)
            )
            where = ("author", field_name)
            yield ContentProblem(
                str(seed_file.path),
                f"author.{field_name}",
                f"author {document.author.slug!r} is defined differently in "
                f"{_at(first, where)}; an author must read the same in every file",
                seed_file.line_of(where),
            )
        if document.review is not None:
            reviewer, line = document.review.reviewer, seed_file.line_of(("review", "reviewer"))
            path, first_line, first_reviewer = reviewers.setdefault(
                reviewer.slug, (seed_file.path, line, reviewer)
            )
            if first_reviewer != reviewer:
                yield ContentProblem(
                    str(seed_file.path),
                    "review.reviewer",
                    f"reviewer {reviewer.slug!r} differs from the one in {path}:{first_line}; "
                    "a reviewer must read the same in every file",
                    line,
                )

    for seed_file in seed_files:
        document = seed_file.document
        if isinstance(document, TranslationDocument):
            article = articles.get(document.translation_of)
            # A translation of an article in no file is checked against the database on seeding.
            if article is not None:
                for location, message in translation_problems(document, article):
                    yield ContentProblem(
                        str(seed_file.path),
                        field_path(location),
                        message,
                        seed_file.line_of(location),
                    )


def _at(seed_file: SeedFile, location: Location) -> str:
    """`path:line` of a field in a seed file (the path alone when the line is unknown)."""
    line = seed_file.line_of(location)
    return f"{seed_file.path}:{line}" if line is not None else str(seed_file.path)


class _SeedDumper(yaml.SafeDumper):
    """Block style throughout; prose as literal blocks so diffs read like the text itself."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent list items under their key


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_datetime(dumper: yaml.SafeDumper, value: datetime) -> yaml.ScalarNode:
    text = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


_SeedDumper.add_representer(str, _represent_str)
_SeedDumper.add_representer(datetime, _represent_datetime)

_PROSE_FIELDS = frozenset({"body", "bio", "intro"})


def dump_document(document: SeedDocument, *, schema_ref: str | None = None) -> str:
    """The canonical seed file for a document: fields in model order, defaults left out, prose as
    literal blocks, a `yaml-language-server` modeline pointing at the JSON Schema."""
    data = _prose_as_blocks(document.model_dump(mode="python", exclude_defaults=True))
    text = yaml.dump(
        data,
        Dumper=_SeedDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return (SCHEMA_MODELINE.format(schema=schema_ref) if schema_ref else "") + text


def _prose_as_blocks(value: Any, key: str | None = None) -> Any:
    # A trailing newline makes PyYAML choose a literal block (`|`) for prose; the loader's
    # validation strips it again, so the stored text is unchanged.
    if isinstance(value, dict):
        return {k: _prose_as_blocks(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_prose_as_blocks(item, key) for item in value]
    if key in _PROSE_FIELDS and isinstance(value, str) and value:
        return value if value.endswith("\n") else value + "\n"
    if isinstance(value, enum.Enum):
        return value.value
    return value
