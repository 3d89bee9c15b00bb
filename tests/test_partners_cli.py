"""`cms partner ...` as operators run it, against a server that counts what partners are served."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner, Result

from cms.cli import app
from cms.http import create_app
from cms.settings import Settings, get_settings
from tests.conftest import SEED_DIR
from tests.live_server import live_server
from tests.test_cli import _run

SNIPPET = '{ benefitSnippet(article: "back-walk", benefit: "pain-management") { slug } }'


def _serve_requests(database_url: str, key: str, count: int) -> list[int]:
    """Send keyed snippet reads to a real server, then stop it (which writes the usage)."""
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        return [
            http.post(
                "/graphql", json={"query": SNIPPET}, headers={"X-Partner-Key": key}
            ).status_code
            for _ in range(count)
        ]


def test_partner_commands_create_list_usage_and_revoke(tmp_path: Path, database_url: str) -> None:
    env = {"CMS_DATABASE_URL": database_url, "COLUMNS": "300"}
    assert _cli("seed", str(SEED_DIR), env=env).exit_code == 0
    created = _run(
        "partner", "create", "--name", "acme", "--origin", "https://acme.example",
        "--origin", "https://news.acme.example", "--rate-limit", "3", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("cmsp_") and len(key) > 40
    assert "cannot be shown again" in created.stderr

    # The limit is 3 a minute; the usage is written when the server stops.
    assert _serve_requests(database_url, key, 4) == [200, 200, 200, 429]
    listed = _rows(_run("partner", "list", cwd=tmp_path, env=env).stdout)
    # name, origins (one a line), limit, served, created, state
    assert [(cells[:4], cells[5]) for cells in listed] == [
        (["acme", "https://acme.example", "3", "3"], "active"),
        (["", "https://news.acme.example", "", ""], ""),
    ]
    usage = _run("partner", "usage", "acme", cwd=tmp_path, env=env)
    assert usage.returncode == 0
    assert _rows(usage.stdout) == [[
        "acme", "back-walk", "pain-management", "3",
    ]]  # fmt: skip

    assert _cli("partner", "revoke", "acme", env=env).stdout.strip() == "revoked acme"
    assert _serve_requests(database_url, key, 1) == [401]
    listed = _rows(_run("partner", "list", cwd=tmp_path, env=env).stdout)
    assert listed[0][5] == "revoked"


def test_partner_commands_refuse_bad_input(tmp_path: Path, database_url: str) -> None:
    env = {"CMS_DATABASE_URL": database_url}
    args = ("partner", "create", "--name", "acme", "--origin")
    assert _cli(*args, "https://acme.example", env=env).exit_code == 0
    outcomes = [
        (result.exit_code, " ".join(result.stderr.split()))
        for result in (
            _cli(*args, "https://acme.example", env=env),
            _cli("partner", "create", "--name", "b", "--origin", "https://b.example/page", env=env),
            _cli("partner", "create", "--name", "c", "--origin", "*", env=env),
            _cli("partner", "revoke", "nobody", env=env),
            _cli("partner", "usage", "nobody", env=env),
        )
    ]
    assert outcomes == [
        (1, "A partner named 'acme' exists already."),
        (1, "'https://b.example/page' is not an origin; give scheme and host, e.g. "
            "https://acme.example"),
        (1, "'*' is not an origin; give scheme and host, e.g. https://acme.example"),
        (1, "No partner named 'nobody'."),
        (1, "No partner named 'nobody'."),
    ]  # fmt: skip
    listed = _run("partner", "list", cwd=tmp_path, env={**env, "COLUMNS": "300"}).stdout
    assert [cells[0] for cells in _rows(listed)] == ["acme"]


def _cli(*args: str, env: dict[str, str]) -> Result:
    """Run a command in this process, with `env` as the configuration."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def _rows(table: str) -> list[list[str]]:
    """The body rows of a rich table, as cells."""
    lines = table.splitlines()
    body = lines[lines.index(next(line for line in lines if line.startswith("┡"))) + 1 : -1]
    return [[c.strip() for c in line.split("│")[1:-1]] for line in body if line.startswith("│")]


def test_partner_list_wraps_long_cells_in_a_narrow_pipe(tmp_path: Path, database_url: str) -> None:
    env = {"CMS_DATABASE_URL": database_url, "COLUMNS": "60"}
    name = "a-partner-whose-name-is-longer-than-any-column-can-hold"
    origin = "https://a-long-subdomain.of-a-partner-company.example"
    assert _cli("partner", "create", "--name", name, "--origin", origin, env=env).exit_code == 0
    listed = _run("partner", "list", cwd=tmp_path, env=env)  # stdout is a pipe
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "…" not in listed.stdout and "\x1b" not in listed.stdout
    rows = _rows(listed.stdout)
    assert len(rows) > 1  # wrapped over several lines, nothing cut off
    assert ("".join(row[0] for row in rows), "".join(row[1] for row in rows)) == (name, origin)
