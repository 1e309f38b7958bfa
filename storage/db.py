"""Database engines and migrations.

SQLite (aiosqlite) is the embedded default, in WAL mode with a busy timeout;
PostgreSQL (asyncpg) is selected by its URL. `upgrade` runs the Alembic migrations,
then fills the rows they leave empty that storage/tallies.py derives (this module
depends on tallies, never the other way).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import sqlite_inline, tallies

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(None|['\"]([^'\"]+)['\"])", re.M)

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000


class DatabaseURLError(ValueError):
    """The database URL names a database this project does not run on."""


def sqlite_url(data_dir: Path | str) -> str:
    return f"sqlite+aiosqlite:///{Path(data_dir) / 'jamaah.db'}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL, a busy timeout and foreign keys.

    A statement's values (names, numbers, what people typed) stay out of SQLAlchemy's
    INFO log lines and out of the text of its errors, which end up in tracebacks.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if (backend, driver) == ("sqlite", "aiosqlite"):
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            async_creator=sqlite_inline.creator(database or ":memory:", BUSY_TIMEOUT_MS / 1000),
            **kwargs,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    if (backend, driver) == ("postgresql", "asyncpg"):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    raise DatabaseURLError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not open transactions itself: `_sqlite_begin_immediate` does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    """Take SQLite's write lock when a transaction begins, not halfway through it.

    A deferred transaction that reads and then writes (claiming outbox rows, say) lets
    two connections read the same rows; with BEGIN IMMEDIATE the second waits (up to
    the busy timeout) until the first commits, and then reads what it left.
    """
    # Straight to the driver: SQLAlchemy's execution machinery would double its cost.
    conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def alembic_config() -> Config:
    # Alembic (with Mako) loads when the schema is looked at, not with every import.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest migration's revision, read from the files without loading Alembic;
    None when they cannot be read so simply (Alembic then decides)."""
    revisions: set[str] = set()
    pointed_to: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        if down.group(2):
            pointed_to.add(down.group(2))
    heads = revisions - pointed_to
    return heads.pop() if len(heads) == 1 else None


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None for an empty database), without Alembic."""

    def read(connection: Connection) -> str | None:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return str(row[0]) if row else None

    async with engine.begin() as conn:  # begin(), as everywhere on SQLite (see bot/web.py)
        return await conn.run_sync(read)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database up to `revision` (idempotent).

    A database already at the newest migration is left as it is without loading Alembic
    (a tenth of a second of every `jamaah` command).
    """
    if revision == "head":
        head = head_revision()
        if head is not None and await stored_revision(engine) == head:
            async with engine.begin() as conn:
                await tallies.fill_missing(conn, now=dt.datetime.now(dt.UTC))
            return
    from alembic import command

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
    if revision == "head":
        # Derived rows the migrations leave empty: the cohorts' tallies (storage/tallies.py).
        async with engine.begin() as conn:
            await tallies.fill_missing(conn, now=dt.datetime.now(dt.UTC))


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
