"""For backup and restore tests: a second database on the same backend, and every row
of a database, to compare a restored one with what was backed up."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import is_sqlite


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    plain = make_url(url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def another_database(like: str, folder: Path) -> AsyncIterator[str]:
    """A new, empty database on the backend of URL `like`."""
    if is_sqlite(like):
        yield f"sqlite+aiosqlite:///{folder / f'other-{secrets.token_hex(3)}.db'}"
        return
    name = f"jamaah_t_{secrets.token_hex(6)}"
    await _admin(like, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(like).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(like, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def all_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """table → its rows, sorted, for every table (the schema version included)."""

    def read(connection: Any) -> dict[str, list[tuple[Any, ...]]]:
        meta = MetaData()
        meta.reflect(connection)
        return {
            name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for name, table in sorted(meta.tables.items())
        }

    async with engine.begin() as conn:
        return await conn.run_sync(read)
