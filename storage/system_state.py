"""Key-value settings the bot keeps in the database (the `system_state` table): the
simulated clock, the Telegram bot's username as `jamaah run` cached it, its menus.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.sql import upsert
from storage.tables import state_t


async def get_value(conn: AsyncConnection, *, key: str) -> Any:
    return (await conn.execute(select(state_t.c.value).where(state_t.c.key == key))).scalar()


_SET_VALUE = upsert(
    "INSERT INTO system_state (key, value) VALUES (:key, :value) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    value=JSON(),
)


async def set_value(conn: AsyncConnection, *, key: str, value: Any) -> None:
    await conn.execute(_SET_VALUE, {"key": key, "value": value})


async def values_with_prefix(conn: AsyncConnection, *, prefix: str) -> list[Any]:
    stmt = select(state_t.c.value).where(state_t.c.key.startswith(prefix, autoescape=True))
    return list((await conn.execute(stmt)).scalars().all())


_INSERT_VALUE = upsert(
    "INSERT INTO system_state (key, value) VALUES (:key, :value) "
    "ON CONFLICT (key) DO NOTHING RETURNING key",
    value=JSON(),
)


async def insert_value(conn: AsyncConnection, *, key: str, value: Any) -> bool:
    """Keep `value` under `key` unless the key is there already; True if it was not."""
    return (await conn.execute(_INSERT_VALUE, {"key": key, "value": value})).first() is not None


async def delete_below(conn: AsyncConnection, *, prefix: str, below: str) -> None:
    """Remove the values whose key starts with `prefix` and sorts before `below`."""
    await conn.execute(
        delete(state_t).where(
            state_t.c.key.startswith(prefix, autoescape=True), state_t.c.key < below
        )
    )
