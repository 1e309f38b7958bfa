"""The audit log of staff actions: writing an entry, and reading the newest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import audit_t


async def audit(
    conn: AsyncConnection,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    await conn.execute(
        insert(audit_t).values(
            actor=actor, action=action, target=target, details=dict(details or {}), at=now
        )
    )


async def audit_entries(
    conn: AsyncConnection, *, since: dt.datetime | None = None, limit: int = 50
) -> Sequence[Row[Any]]:
    """The newest `limit` entries (since `since`, if given), oldest first."""
    stmt = select(audit_t).order_by(audit_t.c.at.desc(), audit_t.c.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(audit_t.c.at >= since)
    rows = list((await conn.execute(stmt)).all())
    rows.reverse()
    return rows
