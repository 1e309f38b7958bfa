"""Engines and migrations (storage/db.py) on SQLite and (with JAMAAH_TEST_POSTGRES_URL)
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import DatabaseURLError, current_revision, make_engine, upgrade
from storage.models import Base


async def test_upgrade_is_idempotent_and_matches_the_models(db: AsyncEngine) -> None:
    await upgrade(db)  # a second time changes nothing
    assert await current_revision(db) == "0006"

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
