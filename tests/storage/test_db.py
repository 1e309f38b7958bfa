"""Engines and migrations (storage/db.py) on SQLite and (with JAMAAH_TEST_POSTGRES_URL)
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import (
    DatabaseURLError,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    stored_revision,
    upgrade,
)
from storage.models import Base


async def test_upgrade_is_idempotent_and_matches_the_models(db: AsyncEngine) -> None:
    await upgrade(db)  # a second time changes nothing
    assert await current_revision(db) == "0008"

    def tables(sync_conn: object) -> set[str]:
        return set(inspect(sync_conn).get_table_names())  # type: ignore[arg-type]

    async with db.connect() as conn:
        names = await conn.run_sync(tables)
    assert set(Base.metadata.tables) <= names


async def test_the_migrations_leave_nothing_for_autogenerate(db: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with db.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (mode, timeout, fks) == ("wal", 10_000, 1)
    finally:
        await engine.dispose()


def test_an_unsupported_url_is_refused_clearly() -> None:
    with pytest.raises(DatabaseURLError, match="sqlite\\+aiosqlite"):
        make_engine("mysql://root@localhost/x")


def test_the_head_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_a_database_behind_the_head_is_migrated_and_one_at_it_left_alone(
    db: AsyncEngine,
) -> None:
    """The short way (no Alembic when the stored revision is the head) must never skip a
    migration: a database one revision behind is brought up by Alembic."""
    head = head_revision()
    assert head is not None and await stored_revision(db) == head
    await downgrade(db, "0005")  # as an older release left it: no tallies table
    assert await stored_revision(db) == "0005"
    await upgrade(db)
    assert await stored_revision(db) == head == await current_revision(db)
    async with db.connect() as conn:
        assert "cohort_tallies" in await conn.run_sync(lambda c: inspect(c).get_table_names())


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
