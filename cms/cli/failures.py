"""How the `cms` command fails: a configuration or connection mistake is one line on stderr that
names the fix, and exit status 1; the traceback only with `cms --debug`."""

from __future__ import annotations

import re
import sqlite3
import sys
from typing import Any

import typer

from cms.settings import get_settings

__all__ = ["CMSTyper", "describe_failure"]

_HINT = "(run `cms --debug ...` for the traceback)"


class CMSTyper(typer.Typer):
    """A Typer app whose uncaught errors print one line (`describe_failure`) unless the
    `--debug` option of its callback set `debug`."""

    debug = False

    def __init__(self, **kwargs: Any) -> None:
        # With --debug, a plain traceback: locals may hold secrets (a database password).
        super().__init__(pretty_exceptions_show_locals=False, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - anything uncaught ends here
            if CMSTyper.debug:
                raise
            typer.echo(f"error: {describe_failure(error)}", err=True)
            sys.exit(1)


def describe_failure(error: BaseException) -> str:
    """One line that says what went wrong and what to change."""
    import pydantic
    import sqlalchemy as sa

    if isinstance(error, pydantic.ValidationError):
        return "; ".join(_setting_problem(problem) for problem in error.errors())
    if isinstance(error, sa.exc.ArgumentError):
        return f"CMS_DATABASE_URL is not a database URL ({_one_line(error)}); {_URL_FORMS}"
    if isinstance(error, ValueError) and str(error).startswith("CMS_"):
        return _one_line(error)
    if isinstance(error, sa.exc.DBAPIError | sqlite3.Error | OSError):
        return _database_problem(error)
    return f"{type(error).__name__}: {_one_line(error)} {_HINT}"


_URL_FORMS = "write sqlite:///path/to/cms.db or postgresql://user:password@host:5432/dbname"


def _setting_problem(problem: Any) -> str:
    message = str(problem["msg"]).removeprefix("Value error, ")
    if not problem["loc"]:  # a rule across settings names them itself
        return message
    return f"CMS_{str(problem['loc'][0]).upper()}: {message} (got {problem.get('input')!r})"


def _database_problem(error: BaseException) -> str:
    import sqlalchemy as sa

    cause = error.orig if isinstance(error, sa.exc.DBAPIError) and error.orig else error
    detail = _one_line(cause)
    where = _database_named(error)
    if "unable to open database file" in detail:
        return (
            f"CMS_DATABASE_URL: cannot open the SQLite file {where}; "
            "create its folder or point the setting at a writable path"
        )
    missing = re.search(r'database "([^"]+)" does not exist', detail)
    if missing:
        return (
            f"CMS_DATABASE_URL: the PostgreSQL database {missing.group(1)!r} does not exist; "
            f"create it (createdb {missing.group(1)}) or name another one"
        )
    return (
        f"cannot reach the database {where} ({detail}); check CMS_DATABASE_URL and that "
        "the server is running"
    )


def _database_named(error: BaseException) -> str:
    """The configured database URL, password hidden; the error's statement is never shown."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(get_settings().database_url)
    except Exception:  # noqa: BLE001 - the URL itself may be what is wrong
        return "(unparsable CMS_DATABASE_URL)"
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def _one_line(error: BaseException) -> str:
    text = str(error).split("\n(Background on this error")[0]
    # Drivers put the SQL statement after the message; the message is what helps.
    text = text.split("\n[SQL:")[0]
    text = re.sub(r"^\([\w.]+\) ", "", text.strip())
    return " ".join(text.split())
