"""Edits of the items of an article: add, change, remove and reorder. Each is a change of the
article's document, validated whole and saved through `cms.content`; `ItemEdit.index` tells
the caller which item of the list a validation problem belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cms.content_model import ItemKind
from cms.documents import ArticleDocument
from cms.errors import ContentProblem, InvalidContent, NotFound

__all__ = ["ItemEdit", "add_item", "change_item", "remove_item", "reorder_items"]


@dataclass
class ItemEdit:
    """A change of one list of an article document; after it ran, `index` is the place of the
    item it added or changed (None for removals and reorders)."""

    kind: ItemKind
    index: int | None = None


def add_item(
    edit: ItemEdit, document: ArticleDocument, values: dict[str, Any], position: int | None
) -> dict[str, Any]:
    """The document with a new item at `position` (clamped to the list), or last."""
    data = document.model_dump()
    items = data[edit.kind.list_name]
    edit.index = len(items) if position is None else max(0, min(position, len(items)))
    items.insert(edit.index, values)
    return data


def change_item(
    edit: ItemEdit, document: ArticleDocument, slug: str, values: dict[str, Any]
) -> dict[str, Any]:
    """The document with the given fields of the item `slug` replaced."""
    data = document.model_dump()
    items = data[edit.kind.list_name]
    edit.index = _index_of(edit.kind, items, slug)
    items[edit.index] = {**items[edit.index], **values}
    return data


def remove_item(edit: ItemEdit, document: ArticleDocument, slug: str) -> dict[str, Any]:
    data = document.model_dump()
    items = data[edit.kind.list_name]
    del items[_index_of(edit.kind, items, slug)]
    return data


def reorder_items(edit: ItemEdit, document: ArticleDocument, slugs: list[str]) -> dict[str, Any]:
    """The document with the kind's items in the order of `slugs`, which must list each once."""
    data = document.model_dump()
    items = data[edit.kind.list_name]
    if sorted(slugs) != sorted(item["slug"] for item in items):
        message = f"list every {edit.kind.label} exactly once"
        raise InvalidContent([ContentProblem("", "slugs", message)])
    by_slug = {item["slug"]: item for item in items}
    data[edit.kind.list_name] = [by_slug[slug] for slug in slugs]
    return data


def _index_of(kind: ItemKind, items: list[dict[str, Any]], slug: str) -> int:
    for index, item in enumerate(items):
        if item["slug"] == slug:
            return index
    raise NotFound(f"The article has no {kind.label} {slug!r}.")
