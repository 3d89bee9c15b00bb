"""Reading a GraphQL-over-HTTP request before Strawberry does, and handing it on unchanged or
with its query filled in (persisted queries)."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

from cms.errors import BadRequest, UnsupportedMediaType

__all__ = [
    "MAX_JSON_DEPTH",
    "GraphQLRequest",
    "parse_graphql_request",
    "read_body",
    "read_body_within",
    "replay_body",
]

# Deepest JSON a request may nest; orjson encodes no deeper than 254 levels, and GraphQL inputs
# here nest a few levels at most.
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class GraphQLRequest:
    method: str
    query: str | None
    variables: Any
    operation_name: str | None
    extensions: Any
    body: bytes
    # A trusted document's id (`sha256:<hex>`), sent instead of `query`.
    document_id: Any = None

    def with_query(self, query: str) -> GraphQLRequest:
        return replace(self, query=query)

    def rewrite(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        """The scope and receive to hand on, carrying this request's (possibly filled in)
        query, and replaying the body already read."""
        if self.method == "GET":
            params = {"query": self.query or ""}
            if self.variables is not None:
                params["variables"] = orjson.dumps(self.variables).decode()
            if self.operation_name is not None:
                params["operationName"] = self.operation_name
            return {**scope, "query_string": urlencode(params).encode()}, receive
        payload = {
            "query": self.query,
            "variables": self.variables,
            "operationName": self.operation_name,
            "extensions": self.extensions,
        }
        return scope, _replay(orjson.dumps(payload), receive)


async def read_body(receive: Receive) -> bytes | None:
    """The whole body; None when the client went away before sending it."""
    chunks = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def read_body_within(receive: Receive, seconds: float) -> bytes | None:
    """`read_body`, or TimeoutError after `seconds`. A small body is nearly always in already:
    it is read without a timer (one set and cancelled costs a cache hit ~3 us), and only a read
    that has to wait goes on under one."""
    reading = read_body(receive)
    try:
        waiting_on = reading.send(None)
    except StopIteration as done:
        body: bytes | None = done.value
        return body
    async with asyncio.timeout(seconds):
        return await _resume(reading, waiting_on)


@types.coroutine
def _resume(
    coroutine: Coroutine[Any, Any, bytes | None], waiting_on: Any
) -> Generator[Any, None, bytes | None]:
    """Await `coroutine` from where its first step stopped, waiting on `waiting_on`: the event
    loop's answers (and a cancellation) go on to it, as `await` would pass them."""
    while True:
        try:
            yield waiting_on
        except BaseException as error:
            step = partial(coroutine.throw, error)
        else:
            step = partial(coroutine.send, None)
        try:
            waiting_on = step()
        except StopIteration as done:
            body: bytes | None = done.value
            return body


def replay_body(body: bytes, receive: Receive) -> Receive:
    return _replay(body, receive)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body, only a disconnect can come

    return replaying


def parse_graphql_request(request: Request, body: bytes) -> GraphQLRequest | None:
    """The request as GraphQL; None for a GET without a query (GraphiQL's page). A POST that is
    not a JSON object raises `BadRequest` (`UnsupportedMediaType` when it is not JSON at all):
    GraphQL over HTTP takes one JSON object a request."""
    if request.method == "GET":
        params = request.query_params
        if not {"query", "extensions", "documentId"} & params.keys():
            return None
        try:
            variables = orjson.loads(params["variables"]) if "variables" in params else None
            extensions = orjson.loads(params["extensions"]) if "extensions" in params else None
        except orjson.JSONDecodeError:
            raise BadRequest("`variables` and `extensions` must be JSON.") from None
        _refuse_deep_json(variables, extensions)
        return GraphQLRequest(
            "GET", params.get("query"), variables, params.get("operationName"), extensions, b"",
            params.get("documentId"),
        )  # fmt: skip
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        raise UnsupportedMediaType("Send the request as application/json.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None
    if isinstance(data, list):
        raise BadRequest("Batched requests are not supported.")
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    _refuse_deep_json(data)
    query = data.get("query")
    for name, kind in (("query", str), ("operationName", str), ("variables", dict),
                       ("extensions", dict)):  # fmt: skip
        if data.get(name) is not None and not isinstance(data[name], kind):
            expected = "a string" if kind is str else "an object"
            raise BadRequest(f"`{name}` must be {expected}.")
    return GraphQLRequest(
        "POST", query, data.get("variables"), data.get("operationName"),
        data.get("extensions"), body, data.get("documentId"),
    )  # fmt: skip


def _refuse_deep_json(*values: object) -> None:
    """Raise `BadRequest` for JSON nested deeper than `MAX_JSON_DEPTH`; only containers are
    walked, and without recursion."""
    stack = [(value, 1) for value in values if isinstance(value, dict | list)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"The request's JSON nests deeper than {MAX_JSON_DEPTH} levels.")
        children = container.values() if isinstance(container, dict) else container
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
