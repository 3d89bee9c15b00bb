"""Running a plan: the response's `data` built directly from what the resolvers return, one field
after another for all the objects of a level at once (so the loaders batch as they do under
graphql-core), leaves serialised by the schema's own scalars and enums.

The resolvers are Strawberry's own (`Field.field`), called as Strawberry calls them; only the
executor around them is replaced. Anything graphql-core would answer with an error (a null in a
non-null field, a resolver raising) raises `Fallback`, and so does a root field that finds
nothing: the request then runs the normal way."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

from graphql.execution.values import VariableValues

from cms.graphql.compiled.plan import Field, Selection
from cms.graphql.context import Context

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
    selection: Selection, context: Context, variables: VariableValues, root: Any = None
) -> _DATA:
    (data,) = await _complete(selection, [root], context, variables)
    return data


async def _complete(
    selection: Selection, sources: list[Any], context: Context, variables: VariableValues
) -> list[_DATA]:
    """`selection` of every object in `sources`, each as its response dict."""
    info = _Info(context, _Path(selection.typename))
    results: list[_DATA] = [{} for _ in sources]
    for field in selection.fields:
        key = field.key
        if field.typename is not None:
            for result in results:
                result[key] = field.typename
            continue
        values = await _resolve(field, sources, info, variables)
        if selection.root and any(value is None or value == [] for value in values):
            # Nothing found: the normal path looks again (slug aliases, say) and answers.
            raise Fallback(key)
        if field.serialize is not None:
            serialize = field.serialize
            for result, value in zip(results, values, strict=True):
                result[key] = _leaf(field, value, serialize)
        else:
            completed = await _objects(field, values, context, variables)
            for result, value in zip(results, completed, strict=True):
                result[key] = value
    return results


async def _resolve(
    field: Field, sources: list[Any], info: _Info, variables: VariableValues
) -> list[Any]:
    strawberry_field = field.field
    assert strawberry_field is not None
    resolver = strawberry_field.base_resolver
    if resolver is None:
        name = strawberry_field.python_name
        return [getattr(source, name) for source in sources]
    kwargs = field.arguments
    if kwargs is None:
        assert field.arguments_of is not None
        kwargs = field.arguments_of(variables)
    keywords = dict(kwargs)
    for parameter in (resolver.root_parameter, resolver.parent_parameter):
        if parameter is not None:
            keywords[parameter.name] = None
    if resolver.info_parameter is not None:
        keywords[resolver.info_parameter.name] = info
    with_self = resolver.self_parameter is not None
    sources_by_name = [
        p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
    ]

    def call(source: Any) -> Any:
        for name in sources_by_name:
            keywords[name] = source
        # `info` stands in for Strawberry's: the resolvers read its context and path alone.
        return strawberry_field.get_result(
            source, cast(Any, info), [source] if with_self else [], dict(keywords)
        )

    if not field.is_async:
        return [call(source) for source in sources]
    if len(sources) == 1:
        return [await call(sources[0])]
    # Together, so that the loaders they call batch into one statement.
    return list(await asyncio.gather(*(call(source) for source in sources)))


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
    field: Field, values: list[Any], context: Context, variables: VariableValues
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
    completed = iter(await _complete(selection, present, context, variables) if present else [])
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
        elif field.is_list:
            out.append([next(completed) if item is not None else None for item in value])
        else:
            out.append(next(completed))
    return out
