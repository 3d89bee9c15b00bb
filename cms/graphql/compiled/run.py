"""Running a plan: the response's `data` built directly from what the resolvers return, one field
after another for all the objects of a level at once (so the loaders batch as they do under
graphql-core), leaves serialised by the schema's own scalars and enums.

The resolvers are Strawberry's own (`Field.field`), called as Strawberry calls them; only the
executor around them is replaced. Anything graphql-core would answer with an error (a null in a
non-null field, a resolver raising) raises `Fallback`, and so does a root field that finds
nothing: the request then runs the normal way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cms.graphql.compiled.plan import Arguments, Field, Selection
from cms.graphql.context import Context
from cms.graphql.eager import gather_eagerly

__all__ = ["Fallback", "run_selection"]


class Fallback(Exception):
    """The answer would carry an error: leave it to the normal execution."""


@dataclass(frozen=True)
class _Path:
    typename: str


@dataclass(frozen=True)
class _Info:
    """What the resolvers read of `info`: the context, and the type being resolved (Relay ids)."""

    context: Context
    path: _Path


_DATA = dict[str, Any]


async def run_selection(
    selection: Selection, context: Context, arguments: Arguments, root: Any = None
) -> _DATA:
    (data,) = await _complete(selection, [root], context, arguments)
    return data


async def _complete(
    selection: Selection, sources: list[Any], context: Context, arguments: Arguments
) -> list[_DATA]:
    """`selection` of every object in `sources`, each as its response dict. Every resolver of
    the level is called before any is awaited, as graphql-core does, so that the loaders they
    call batch together."""
    info = _Info(context, _Path(selection.typename))
    started: list[list[Any]] = []
    try:
        for field in selection.fields:
            started.append(
                _start(field, sources, info, arguments) if field.typename is None else []
            )
    except BaseException:
        _close(selection.fields, started)
        raise
    awaiting = [values for field, values in zip(selection.fields, started, strict=True)
                if field.is_async]  # fmt: skip
    if awaiting:
        answers = iter(await gather_eagerly([call for values in awaiting for call in values]))
        for values in awaiting:
            values[:] = [next(answers) for _ in values]
    results: list[_DATA] = [{} for _ in sources]
    for field, values in zip(selection.fields, started, strict=True):
        key = field.key
        if field.typename is not None:
            for result in results:
                result[key] = field.typename
            continue
        if selection.root and any(value is None or value == [] for value in values):
            # Nothing found: the normal path looks again (slug aliases, say) and answers.
            raise Fallback(key)
        if field.serialize is not None:
            serialize = field.serialize
            for result, value in zip(results, values, strict=True):
                # A plain field's value, the most common: one call less.
                if value is None or field.is_list:
                    result[key] = _leaf(field, value, serialize)
                else:
                    result[key] = _serialized(serialize, value)
        else:
            completed = await _objects(field, values, context, arguments)
            for result, value in zip(results, completed, strict=True):
                result[key] = value
    return results


def _close(fields: tuple[Field, ...], started: list[list[Any]]) -> None:
    """Close the coroutines made for a level that fails before awaiting them."""
    for field, values in zip(fields, started, strict=False):
        if field.is_async:
            for value in values:
                value.close()


def _start(field: Field, sources: list[Any], info: _Info, arguments: Arguments) -> list[Any]:
    """The field's value for every source: the values, or (async resolvers) their awaitables."""
    strawberry_field = field.field
    assert strawberry_field is not None
    resolver = strawberry_field.base_resolver
    if resolver is None:
        name = strawberry_field.python_name
        return [getattr(source, name) for source in sources]
    keywords = dict(arguments.of(field))
    if resolver.info_parameter is not None:
        # `info` stands in for Strawberry's: the resolvers read its context and path alone.
        keywords[resolver.info_parameter.name] = info
    # Called as `StrawberryField.get_result` calls it, less the layers between.
    wrapped = resolver.wrapped_func
    function: Callable[..., Any] = wrapped if callable(wrapped) else resolver
    sources_by_name = [
        p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
    ]
    with_self = resolver.self_parameter is not None
    if not sources_by_name:
        if with_self:
            return [function(source, **keywords) for source in sources]
        return [function(**keywords) for _ in sources]

    def call(source: Any) -> Any:
        for name in sources_by_name:
            keywords[name] = source
        return function(source, **keywords) if with_self else function(**keywords)

    return [call(source) for source in sources]


def _leaf(field: Field, value: Any, serialize: Any) -> Any:
    if value is None:
        if field.non_null:
            raise Fallback(field.key)
        return None
    if not field.is_list:
        return _serialized(serialize, value)
    items: list[Any] = []
    for item in value:
        if item is None:
            if field.item_non_null:
                raise Fallback(field.key)
            items.append(None)
        else:
            items.append(_serialized(serialize, item))
    return items


def _serialized(serialize: Any, value: Any) -> Any:
    serialized = serialize(value)
    if serialized is None:
        raise Fallback("a leaf serialised to null")
    return serialized


async def _objects(
    field: Field, values: list[Any], context: Context, arguments: Arguments
) -> list[Any]:
    """The objects of one field of every source, completed together, in place of `values`."""
    selection = field.selection
    assert selection is not None
    flat: list[Any] = []
    for value in values:
        if value is None:
            if field.non_null:
                raise Fallback(field.key)
        elif field.is_list:
            for item in value:
                if item is None and field.item_non_null:
                    raise Fallback(field.key)
                flat.append(item)
        else:
            flat.append(value)
    present = [item for item in flat if item is not None]
    completed = iter(await _complete(selection, present, context, arguments) if present else [])
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
        elif field.is_list:
            out.append([next(completed) if item is not None else None for item in value])
        else:
            out.append(next(completed))
    return out
