"""A cohort's calendar beyond its start date: pauses, local holidays, and what a
facilitator said about a meeting that falls on a holiday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Date, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import UTCDateTime
from storage.sql import upsert
from storage.tables import cohorts_t, holidays_t, meetings_t

# --- pauses --------------------------------------------------------------------------


async def set_pauses(
    conn: AsyncConnection,
    *,
    cohort_id: int,
    pauses: list[dict[str, Any]] | None,
    now: dt.datetime,
) -> None:
    """Keep the cohort's pauses; its scheduler moment is worked out again at once."""
    await conn.execute(
        update(cohorts_t).where(cohorts_t.c.id == cohort_id).values(pauses=pauses, next_tick_at=now)
    )


# --- holidays ------------------------------------------------------------------------


async def add_holiday(
    conn: AsyncConnection,
    *,
    day: dt.date,
    name: str,
    now: dt.datetime,
    region: str = "",
    cohort_id: int | None = None,
) -> bool:
    """Add a local holiday; False when that day is one there already."""
    same = select(holidays_t.c.id).where(
        holidays_t.c.day == day,
        holidays_t.c.region == region,
        holidays_t.c.cohort_id.is_(None)
        if cohort_id is None
        else holidays_t.c.cohort_id == cohort_id,
    )
    if (await conn.execute(same)).first() is not None:
        return False
    await conn.execute(
        insert(holidays_t).values(
            day=day, name=name, region=region, cohort_id=cohort_id, created_at=now
        )
    )
    await _retick(conn, region=region, cohort_id=cohort_id, now=now)
    return True


async def remove_holiday(
    conn: AsyncConnection,
    *,
    day: dt.date,
    now: dt.datetime,
    region: str = "",
    cohort_id: int | None = None,
) -> bool:
    stmt = delete(holidays_t).where(
        holidays_t.c.day == day,
        holidays_t.c.region == region,
        holidays_t.c.cohort_id.is_(None)
        if cohort_id is None
        else holidays_t.c.cohort_id == cohort_id,
    )
    removed = (await conn.execute(stmt)).rowcount > 0
    if removed:
        await _retick(conn, region=region, cohort_id=cohort_id, now=now)
    return removed


async def _retick(
    conn: AsyncConnection, *, region: str, cohort_id: int | None, now: dt.datetime
) -> None:
    """The cohorts a holiday touches look at their calendar again on the next tick."""
    stmt = update(cohorts_t).values(next_tick_at=now)
    if cohort_id is not None:
        stmt = stmt.where(cohorts_t.c.id == cohort_id)
    elif region:
        stmt = stmt.where(
            (cohorts_t.c.region == region)
            | cohorts_t.c.region.startswith(region + "/", autoescape=True)
        )
    await conn.execute(stmt)


async def local_holidays(conn: AsyncConnection) -> Sequence[Row[Any]]:
    """Every holiday an admin added (a short list: a few a year per region)."""
    stmt = select(
        holidays_t.c.day, holidays_t.c.name, holidays_t.c.region, holidays_t.c.cohort_id
    ).order_by(holidays_t.c.day, holidays_t.c.region)
    return (await conn.execute(stmt)).all()


# --- meetings on a holiday ------------------------------------------------------------

_DECIDE = upsert(
    "INSERT INTO meeting_decisions (cohort_id, day, held, decided_by, decided_at) "
    "VALUES (:cohort_id, :day, :held, :decided_by, :decided_at) "
    "ON CONFLICT (cohort_id, day) DO UPDATE SET held = excluded.held, "
    "decided_by = excluded.decided_by, decided_at = excluded.decided_at",
    day=Date(),
    held=Boolean(),
    decided_at=UTCDateTime(),
)


async def decide_meeting(
    conn: AsyncConnection,
    *,
    cohort_id: int,
    day: dt.date,
    held: bool,
    person_id: int | None,
    now: dt.datetime,
) -> None:
    await conn.execute(
        _DECIDE,
        {
            "cohort_id": cohort_id,
            "day": day,
            "held": held,
            "decided_by": person_id,
            "decided_at": now,
        },
    )


async def meetings_held(
    conn: AsyncConnection, *, cohort_ids: Sequence[int]
) -> dict[tuple[int, dt.date], bool]:
    """What facilitators said of their meetings on holidays, by (cohort, day)."""
    if not cohort_ids:
        return {}
    stmt = select(meetings_t.c.cohort_id, meetings_t.c.day, meetings_t.c.held).where(
        meetings_t.c.cohort_id.in_(list(cohort_ids))
    )
    return {(r.cohort_id, r.day): bool(r.held) for r in (await conn.execute(stmt)).all()}
