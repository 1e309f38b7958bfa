"""Staff dialogs: a staff member's one open multi-step chat (/siaran, /checkin, /tinjau,
...), kept apart from the programme's flow sessions (storage/models.py, `Dialog`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import UTCDateTime
from storage.sql import upsert
from storage.tables import dialogs_t

_SAVE_DIALOG = upsert(
    "INSERT INTO dialogs (person_id, name, step, state, updated_at) "
    "VALUES (:person_id, :name, :step, :state, :now) "
    "ON CONFLICT (person_id) DO UPDATE SET name = excluded.name, step = excluded.step, "
    "state = excluded.state, updated_at = excluded.updated_at",
    state=JSON(),
    now=UTCDateTime(),
)


async def get_dialog(conn: AsyncConnection, *, person_id: int) -> Row[Any] | None:
    return (await conn.execute(select(dialogs_t).where(dialogs_t.c.person_id == person_id))).first()


async def save_dialog(
    conn: AsyncConnection,
    *,
    person_id: int,
    name: str,
    step: str,
    state: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    await conn.execute(
        _SAVE_DIALOG,
        {"person_id": person_id, "name": name, "step": step, "state": dict(state), "now": now},
    )


async def delete_dialog(conn: AsyncConnection, *, person_id: int) -> None:
    await conn.execute(delete(dialogs_t).where(dialogs_t.c.person_id == person_id))
