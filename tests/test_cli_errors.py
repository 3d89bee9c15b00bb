"""Operators' mistakes in the `cms` command: one line on stderr that names the fix, a non-zero
exit, and the traceback only with `--debug`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_SERVER

CMS = [sys.executable, "-m", "cms"]
UNREACHABLE_POSTGRES = "postgresql://postgres:pw-in-url@127.0.0.1:1/none"


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    return subprocess.run(
        [*CMS, *args],
        cwd=cwd,
        env={**clean, "COLUMNS": "80", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "seed"])
def test_a_missing_sqlite_folder_is_one_line_naming_the_setting(
    tmp_path: Path, command: str
) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'cms.db'}"
    line = _one_line_error(_run(command, cwd=tmp_path, CMS_DATABASE_URL=url))
    assert line.startswith("error: CMS_DATABASE_URL: cannot open the SQLite file")
    assert str(tmp_path / "missing" / "cms.db") in line


@pytest.mark.parametrize("command", ["serve", "seed"])
def test_an_unreachable_postgres_is_one_line(tmp_path: Path, command: str) -> None:
    line = _one_line_error(_run(command, cwd=tmp_path, CMS_DATABASE_URL=UNREACHABLE_POSTGRES))
    assert "cannot reach the database postgresql://postgres:***@127.0.0.1:1/none" in line
    assert "check CMS_DATABASE_URL" in line
    assert "pw-in-url" not in line


def test_a_missing_postgres_database_says_to_create_it(tmp_path: Path) -> None:
    url = POSTGRES_SERVER.rsplit("/", 1)[0] + "/cms_no_such_database"
    result = _run("seed", cwd=tmp_path, CMS_DATABASE_URL=url)
    if "cannot reach" in result.stderr:
        pytest.skip("PostgreSQL is not reachable")
    line = _one_line_error(result)
    assert "'cms_no_such_database' does not exist; create it" in line


def test_a_postgres_scheme_url_is_read_as_postgresql(tmp_path: Path) -> None:
    url = POSTGRES_SERVER.replace("postgresql://", "postgres://", 1)
    result = _run("db", "current", cwd=tmp_path, CMS_DATABASE_URL=url)
    if "cannot reach" in result.stderr:
        pytest.skip("PostgreSQL is not reachable")
    assert result.returncode == 0, result.stderr
    assert "head:" in result.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CMS_DATABASE_URL": "mysql://u@h/db"}, "error: CMS_DATABASE_URL: unsupported database"),
        ({"CMS_DATABASE_URL": "::nonsense"}, "error: CMS_DATABASE_URL is not a database URL"),
        ({"CMS_DB_POOL_SIZE": "many"}, "error: CMS_DB_POOL_SIZE: Input should be a valid integer"),
        ({"CMS_ALLOWED_HOSTS": '["*"]'}, 'error: CMS_ALLOWED_HOSTS=["*"]'),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    line = _one_line_error(_run("serve", cwd=tmp_path, **env))
    assert line.startswith(expected)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = _run("--debug", "seed", cwd=tmp_path, CMS_DATABASE_URL=UNREACHABLE_POSTGRES)
    assert result.returncode != 0
    assert "Traceback" in result.stderr or "OperationalError" in result.stderr
    assert len(result.stderr.splitlines()) > 1


@pytest.mark.parametrize("key", [None, "", "  "])
def test_several_workers_without_an_admin_secret_key_refuse_to_start(
    tmp_path: Path, key: str | None
) -> None:
    url = f"sqlite:///{tmp_path / 'cms.db'}"
    env = {"CMS_DATABASE_URL": url, **({} if key is None else {"CMS_ADMIN_SECRET_KEY": key})}
    line = _one_line_error(_run("serve", "--workers", "2", cwd=tmp_path, **env))
    assert line.startswith("--workers 2 needs CMS_ADMIN_SECRET_KEY")
    assert not (tmp_path / "cms.db").exists()


@pytest.mark.parametrize(
    ("args", "env", "why"),
    [
        (("--host", "0.0.0.0"), {}, "--host 0.0.0.0"),
        (("--host", "::"), {}, "--host ::"),
        ((), {"CMS_ENV": "production"}, "CMS_ENV=production"),
    ],
)
def test_serve_reachable_by_others_refuses_to_start_without_a_site_url(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], why: str
) -> None:
    url = f"sqlite:///{tmp_path / 'cms.db'}"
    line = _one_line_error(_run("serve", *args, cwd=tmp_path, CMS_DATABASE_URL=url, **env))
    assert line.startswith(f"error: CMS_SITE_URL is not set ({why} needs it)")
    assert "e.g. CMS_SITE_URL=https://www.example.com" in line
    assert not (tmp_path / "cms.db").exists()
