"""Shared fixtures: the app over HTTP on a real database, SQLite and PostgreSQL alike.

Every test that takes `database_url` (directly or through `database`, `engine` or `client`)
runs twice: on a fresh SQLite file and on a PostgreSQL database of the test process's own (each
xdist worker has two: one whose tables are kept for the tests that take `database`, one for the
rest), named after the run and dropped after it. Without a reachable PostgreSQL the second run is
skipped, except under `CI=true`, where it fails.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import psycopg
import pytest
from hypothesis import HealthCheck
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.db import Database, create_schema
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SEED_DIR = REPO / "seed"
SOURCE_ARTICLE = Path(__file__).resolve().parent / "fixtures" / "back-walk-benefits.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
POSTGRES_SERVER = os.environ.get(
    "CMS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

GraphQL = Callable[..., Awaitable[dict[str, Any]]]

# Shared by the xdist workers, which inherit the controller's environment: every database of this
# run is named after it, so that the controller can drop what a worker that died left behind.
RUN_ID = "CMS_TEST_RUN_ID"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(RUN_ID, uuid.uuid4().hex[:10])
    # Every app the tests start, in this process or another, answers however busy the machine
    # is: the default limit (10 s) cut off a read of a page of 30 articles under heavy load. The
    # test of the limit sets its own.
    os.environ.setdefault("CMS_REQUEST_TIMEOUT", "120")
    # Hypothesis: enough examples for CI; `HYPOTHESIS_PROFILE=long` for a thorough local run.
    # A busy machine must not fail a run: no deadline, no health check on generation speed.
    busy = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
    hypothesis.settings.register_profile("ci", max_examples=100, **busy)
    hypothesis.settings.register_profile("long", max_examples=2000, **busy)
    hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On the controller (or in a run without workers), once every worker is done or dead: drop
    the run's databases. In a process of its own that the run does not wait for: DROP DATABASE
    waits for a checkpoint of the whole server, which takes from seconds to a minute when other
    runs keep the server busy."""
    if hasattr(session.config, "workerinput"):
        return
    # Spawned rather than a `Popen`, which would warn when collected while its process runs on.
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    arguments = [sys.executable, "-c", DROP_DATABASES, POSTGRES_SERVER, _database_prefix()]
    os.posix_spawn(sys.executable, arguments, os.environ, file_actions=quiet, setsid=True)


def _database_prefix() -> str:
    return f"cms_test_{os.environ[RUN_ID]}_"


DROP_DATABASES = """
import sys, psycopg
server, prefix = sys.argv[1:]
with psycopg.connect(server, autocommit=True, connect_timeout=3) as admin:
    for (name,) in admin.execute("SELECT datname FROM pg_database").fetchall():
        if name.startswith(prefix):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
"""


# Modules whose tests start processes, servers or a browser, and take seconds each. They run
# first, so that the workers share them and then the many short tests, rather than one worker
# being left with a long one at the end.
SLOW_MODULES = {
    "test_cli.py",
    "test_partners_cli.py",
    "test_workers.py",
    "test_faults.py",
    "test_fuzz.py",
    "test_admin_browser.py",
    "test_embeds_browser.py",
    "test_subscriptions.py",
    "test_typed_client.py",
    "test_schema_lint.py",
    "test_serve_options.py",
    "test_websocket_limits.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres_only` run on PostgreSQL alone: their SQLite variant is not
    collected (rather than skipped), since it has nothing to test there. The slow modules'
    tests come first (`SLOW_MODULES`)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        (dropped if on_sqlite and item.get_closest_marker("postgres_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = sorted(kept, key=lambda item: item.path.name not in SLOW_MODULES)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_database() -> str | None:
    """A database of its own on the shared PostgreSQL server, for this test process only; dropped
    at the end of the run (`pytest_sessionfinish`). For the tests that do not take `engine`."""
    return _create_database("bare")


@pytest.fixture(scope="session")
def postgres_tables_database() -> str | None:
    """Like `postgres_database`, for the tests that take `engine`: kept apart so that the tables
    `create_all` made in it stay there (emptied) between such tests (`database_url`)."""
    return _create_database("tables")


def _create_database(purpose: str) -> str | None:
    try:
        admin = psycopg.connect(POSTGRES_SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be reachable under CI=true: {error}")
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{_database_prefix()}{worker}_{purpose}_{uuid.uuid4().hex[:6]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        # A test database need not survive a crash of the server: commits do not wait for the
        # disk, which the server shares with every other test run on the machine.
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(COUNT_DDL)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cms.db'}"
    # Tests that make the tables through the `database` fixture may be given the last ones back.
    with_engine = "database" in request.fixturenames
    database = "postgres_tables_database" if with_engine else "postgres_database"
    url: str | None = request.getfixturevalue(database)
    if url is None:
        pytest.skip("PostgreSQL is not reachable (runs under CI=true)")
    with psycopg.connect(url, autocommit=True) as connection:
        if with_engine and _tables_made.get(url) == _ddl_count(connection):
            connection.execute(CLEAR_ROWS)
        else:
            _tables_made.pop(url, None)
            connection.execute("DROP SCHEMA public CASCADE")
            connection.execute("CREATE SCHEMA public")
    return url


# Emptying the tables is much cheaper than making them again (PostgreSQL writes and fsyncs files
# for every table and index), so a test that takes `database` is given the tables the previous
# such test had, emptied, when nothing has changed the schema since `create_all` made it: an
# event trigger counts every DDL statement in the database, whoever runs it and however it ends.
# Any other test starts on an empty database (another one), as it always did.
COUNT_DDL = """
CREATE SCHEMA cms_test_harness;
CREATE SEQUENCE cms_test_harness.ddl_statements;
CREATE FUNCTION cms_test_harness.count_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM nextval('cms_test_harness.ddl_statements'); END $$;
CREATE EVENT TRIGGER cms_test_count_ddl ON ddl_command_end
  EXECUTE FUNCTION cms_test_harness.count_ddl();
"""
# Every row of every table in `public` gone and every sequence back at its start, as after
# `create_all`; foreign keys and triggers are not checked or fired meanwhile (replica role).
CLEAR_ROWS = """
DO $$
DECLARE item record;
BEGIN
  PERFORM set_config('session_replication_role', 'replica', true);
  FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('DELETE FROM %s', item.name);
  END LOOP;
  FOR item IN SELECT c.oid::regclass AS name, s.seqstart FROM pg_sequence s
      JOIN pg_class c ON c.oid = s.seqrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' LOOP
    PERFORM setval(item.name, item.seqstart, false);
  END LOOP;
END $$
"""
# Database URL -> the DDL count just after `create_all` made its tables there (and no row yet).
_tables_made: dict[str, int] = {}


def _ddl_count(connection: psycopg.Connection[Any]) -> int:
    query = "SELECT last_value, is_called FROM cms_test_harness.ddl_statements"
    row = connection.execute(query).fetchone()
    assert row is not None
    return int(row[0]) if row[1] else 0


def _remember_fresh_tables(database_url: str) -> None:
    """Just after `create_all` on a PostgreSQL database: remember its schema as the one a test
    may be given emptied (`database_url`), if its tables are indeed all empty."""
    if database_url in _tables_made:
        return
    with psycopg.connect(database_url, autocommit=True) as connection:
        names = connection.execute(
            "SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        any_row = " OR ".join(f"EXISTS (SELECT FROM {name})" for (name,) in names)
        row = connection.execute(f"SELECT {any_row or 'false'}").fetchone()
        if row is not None and not row[0]:
            _tables_made[database_url] = _ddl_count(connection)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, seed_dir=SEED_DIR, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def database(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    url = make_url(settings.database_url)
    copied = url.get_backend_name() == "sqlite" and await _copy_sqlite_schema(
        Path(str(url.database)), tmp_path_factory.getbasetemp()
    )
    database = Database.from_settings(settings)
    if not copied:
        await create_schema(database.engine)
    if database.engine.dialect.name == "postgresql":
        _remember_fresh_tables(settings.database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def _copy_sqlite_schema(path: Path, folder: Path) -> bool:
    """A new SQLite file starts as a copy of one that `create_schema` made in this test process
    (a file copy, rather than 48 ms of CPU for `create_all` a test). False if it exists."""
    if path.exists():
        return False
    template = folder / "schema-template.db"
    if not template.exists():
        made = Database.from_settings(
            Settings(database_url=f"sqlite:///{template}", _env_file=None)  # type: ignore[call-arg]
        )
        try:
            await create_schema(made.engine)
        finally:
            await made.dispose()
    for suffix in ("", "-wal"):  # the log too, should a connection have left one
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{path}{suffix}")
    return True


@pytest.fixture
def engine(database: Database) -> AsyncEngine:
    """The database's async engine, for tests that reach it directly."""
    return database.engine


@pytest.fixture
async def penci(database: Database) -> None:
    """On a database with no seed: the author that new articles in tests reference. Articles
    only reference authors; `cms.authors` creates them."""
    from cms.authors import create_author
    from cms.documents import AuthorDocument

    async with database.write_session() as session:
        await create_author(session, AuthorDocument(slug="penci", name="Penci"))


@pytest.fixture
async def seeded(database: Database) -> AsyncEngine:
    await seed_database(database, [SEED_DIR])
    return database.engine


@pytest.fixture
async def client(database: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        yield client


@pytest.fixture
def graphql(client: httpx.AsyncClient) -> GraphQL:
    """POST a GraphQL document; return the decoded body after checking the HTTP status. Every
    executed operation reports its cost (`tests/graphql/test_cost.py`); it is checked here and
    left out of the body, so that tests compare what they are about."""

    async def post(
        query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return without_cost(body)

    return post


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """The body without `extensions.cost`, after checking its shape where it is present."""
    extensions = body.get("extensions")
    if isinstance(extensions, dict) and "cost" in extensions:
        cost = extensions.pop("cost")
        assert set(cost) == {"requested", "maximum"} and 0 <= cost["requested"], cost
        if not extensions:
            del body["extensions"]
    return body


@pytest.fixture
def sql_statements(database: Database) -> Iterator[list[str]]:
    """Every data statement the database sends while the test runs, in order, whichever of its
    connections sends it. Transaction control is left out: SQLite needs an explicit BEGIN that
    PostgreSQL's driver sends implicitly."""
    statements: list[str] = []

    def record(statement: str) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT")):
            statements.append(statement)

    stop = database.listen_to_statements(record)
    try:
        yield statements
    finally:
        stop()


TokenFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def make_token(database: Database) -> TokenFactory:
    """Create an API token with the given scopes in the test database; return its secret."""
    from cms.access import Scope
    from cms.tokens import create_token

    async def make(*scopes: Scope, name: str | None = None, **kwargs: Any) -> str:
        async with database.write_session() as session:
            _, secret = await create_token(
                session, name=name or f"token-{uuid.uuid4().hex[:8]}", scopes=scopes, **kwargs
            )
        return secret

    return make
