"""The admin's forms: which inputs edit which document fields (derived from the content model),
what a posted form means as document data, and which input a validation problem belongs to."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cms.content_model import SLUG_PATTERN, ItemKind, Role, role_of, value_type
from cms.documents import ArticleDocument
from cms.errors import ContentProblem
from cms.text import to_html

__all__ = [
    "ARTICLE_FIELDS",
    "FormField",
    "Widget",
    "article_data",
    "article_values",
    "errors_by_input",
    "item_data",
    "item_fields",
    "item_values",
    "parse_publish_at",
    "previews",
    "typed",
]


class Widget(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"  # a textarea, with a preview
    TAGS = "tags"
    DATE = "date"
    SELECT = "select"
    CHECKBOX = "checkbox"


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: Widget
    help: str = ""
    choices: tuple[str, ...] = ()


_TAGS_HELP = "Lower-case words joined by hyphens, separated by spaces, e.g. stress-relief posture."
_MARKDOWN_HELP = "Markdown: a blank line between paragraphs, “- ” starts a list item."

ARTICLE_FIELDS: tuple[FormField, ...] = (
    FormField("title", "Title", Widget.TEXT),
    FormField("headline", "Headline", Widget.TEXT, "One line shown under the title."),
    FormField("intro", "Introduction", Widget.MARKDOWN, _MARKDOWN_HELP),
    FormField("tags", "Tags", Widget.TAGS, _TAGS_HELP),
    FormField("reviewed_by", "Medically reviewed by", Widget.TEXT, "e.g. Dr. Jane Doe, MD"),
    FormField("last_reviewed", "Date of that review", Widget.DATE),
    FormField("conclusion_title", "Conclusion heading", Widget.TEXT),
    FormField("conclusion", "Conclusion", Widget.MARKDOWN, _MARKDOWN_HELP),
)


def item_fields(kind: ItemKind) -> tuple[FormField, ...]:
    """The inputs of an item of `kind`, in the order its document declares its fields."""
    fields = []
    for name, info in kind.fields.items():
        if name == "slug":
            continue
        python_type, role = value_type(info), role_of(info)
        choices: tuple[str, ...] = ()
        if role is Role.PROSE:
            widget = Widget.MARKDOWN
        elif python_type == list[str]:
            widget = Widget.TAGS
        elif python_type is bool:
            widget = Widget.CHECKBOX
        elif isinstance(python_type, type) and issubclass(python_type, enum.Enum):
            widget, choices = Widget.SELECT, tuple(str(m.value) for m in python_type)
        else:
            widget = Widget.TEXT
        label = "Draft" if name == "draft" else name.replace("_", " ").capitalize()
        help_text = _MARKDOWN_HELP if widget is Widget.MARKDOWN else info.description or ""
        if widget is Widget.TAGS:
            help_text = _TAGS_HELP
        elif widget is Widget.CHECKBOX and name == "draft":
            help_text = "Hidden from readers while ticked."
        fields.append(FormField(name, label, widget, help_text, choices))
    return tuple(fields)


def typed(form: Mapping[str, Any], fields: Iterable[FormField]) -> dict[str, str]:
    """What was typed into each input, as the form shows it again. Browsers send a textarea's
    line breaks as CRLF; the document's Markdown has LF."""
    values: dict[str, str] = {}
    for field in fields:
        raw = form.get(field.name)
        text = raw if isinstance(raw, str) else ""
        values[field.name] = text.replace("\r\n", "\n")
    return values


def _value(field: FormField, text: str) -> Any:
    if field.widget is Widget.TAGS:
        return [tag for tag in re.split(r"[\s,]+", text) if tag]
    if field.widget is Widget.CHECKBOX:
        return bool(text)
    if field.widget is Widget.DATE:
        return text or None
    return text


def _shown(field: FormField, value: Any) -> str:
    if field.widget is Widget.TAGS:
        return " ".join(value)
    if field.widget is Widget.CHECKBOX:
        return "on" if value else ""
    if value is None:
        return ""
    return str(value.value if isinstance(value, enum.Enum) else value)


def article_values(document: ArticleDocument) -> dict[str, str]:
    data = document.model_dump()
    conclusion = data.pop("conclusion") or {"title": "", "body": ""}
    data.update(conclusion_title=conclusion["title"], conclusion=conclusion["body"])
    return {field.name: _shown(field, data[field.name]) for field in ARTICLE_FIELDS}


def article_data(values: Mapping[str, str]) -> dict[str, Any]:
    """The article fields the form edits, as document data (no conclusion when both of its
    inputs are empty)."""
    data = {field.name: _value(field, values[field.name]) for field in ARTICLE_FIELDS}
    title, body = data.pop("conclusion_title"), data.pop("conclusion")
    data["conclusion"] = {"title": title, "body": body} if title.strip() or body.strip() else None
    return data


def item_values(kind: ItemKind, item: Mapping[str, Any]) -> dict[str, str]:
    return {field.name: _shown(field, item.get(field.name)) for field in item_fields(kind)}


def item_data(kind: ItemKind, values: Mapping[str, str]) -> dict[str, Any]:
    return {field.name: _value(field, values[field.name]) for field in item_fields(kind)}


def errors_by_input(
    problems: Iterable[ContentProblem], inputs: Iterable[str], prefix: str = ""
) -> tuple[dict[str, str], list[str]]:
    """Each problem addressed to the input it is about (the document path after `prefix`, e.g.
    `benefits[2].`), and the rest, which belong to no input of the form."""
    names = set(inputs)
    by_input: dict[str, str] = {}
    rest: list[str] = []
    for problem in problems:
        path = problem.field.removeprefix(prefix) if prefix else problem.field
        name = re.split(r"[.\[]", path, maxsplit=1)[0]
        if name == "conclusion":
            name = "conclusion_title" if path.endswith(".title") else "conclusion"
        message = _readable(problem.message)
        if (prefix and not problem.field.startswith(prefix)) or name not in names:
            rest.append(f"{problem.field}: {message}" if problem.field else message)
            continue
        if name in by_input:
            by_input[name] += f"; {message}"
        else:
            by_input[name] = message
    return by_input, rest


_READABLE = {
    "String should have at least 1 character": "This cannot be empty.",
    f"String should match pattern '{SLUG_PATTERN}'": (
        "Use lower-case letters and digits, words joined by hyphens, e.g. stress-relief."
    ),
}


def _readable(message: str) -> str:
    """Validation messages in an editor's words where the validator's are a programmer's."""
    return _READABLE.get(message, message)


def previews(fields: Iterable[FormField], values: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each Markdown input's text as readers will see it: (label, sanitised HTML)."""
    return [
        (field.label, to_html(values[field.name]))
        for field in fields
        if field.widget is Widget.MARKDOWN and values.get(field.name, "").strip()
    ]


def parse_publish_at(text: str) -> datetime | None:
    """A `datetime-local` input's value, read as UTC (the form says so); None when unparsable."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
