"""The audit log of staff actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
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
