"""Reading a GraphQL-over-HTTP request before Strawberry does, and handing it on unchanged or
with its query filled in (persisted queries)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

__all__ = ["GraphQLRequest", "parse_graphql_request", "replay_body"]


@dataclass(frozen=True)
class GraphQLRequest:
    method: str
    query: str | None
    variables: Any
    operation_name: str | None
    extensions: Any
    body: bytes

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
    """The request as GraphQL, or None when it is not one this layer understands (GraphiQL's
    page, batches, other content types, malformed JSON): those go to Strawberry untouched,
    with their body replayed, and Strawberry answers them."""
    if request.method == "GET":
        params = request.query_params
        if "query" not in params and "extensions" not in params:
            return None
        try:
            variables = orjson.loads(params["variables"]) if "variables" in params else None
            extensions = orjson.loads(params["extensions"]) if "extensions" in params else None
        except orjson.JSONDecodeError:
            return None
        return GraphQLRequest(
            "GET", params.get("query"), variables, params.get("operationName"), extensions, b""
        )
    content_type = request.headers.get("content-type", "")
    if request.method != "POST" or not content_type.startswith("application/json"):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    query = data.get("query")
    return GraphQLRequest(
        "POST",
        query if isinstance(query, str) else None,
        data.get("variables"),
        data.get("operationName"),
        data.get("extensions"),
        body,
    )
