"""Cohorts and their memberships: creating and reading cohorts, counting their places,
their staff, and adding a membership (storage/roles.py names the roles).

Pre-registered (INVITED) memberships are made and resolved in storage/invites.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tallies
from storage.roles import ADMIN, INVITED, PARTICIPANT, STAFF_ROLES
from storage.tables import cohorts_t, memberships_t, people_t

# --- cohorts --------------------------------------------------------------------------


async def create_cohort(
    conn: AsyncConnection,
    *,
    code: str,
    name: str,
    region: str,
    start_date: dt.date,
    timezone: str,
    capacity: int,
    language: str,
    join_code: str,
    now: dt.datetime,
) -> int:
    result = await conn.execute(
        insert(cohorts_t)
        .values(
            code=code,
            name=name,
            region=region,
            start_date=start_date,
            timezone=timezone,
            capacity=capacity,
            language=language,
            join_code=join_code,
            quiet_start="21:00",
            quiet_end="06:00",
            created_at=now,
            next_tick_at=now,  # the scheduler works out its calendar on its next tick
        )
        .returning(cohorts_t.c.id)
    )
    return int(result.scalar_one())


async def update_cohort(conn: AsyncConnection, *, cohort_id: int, **values: Any) -> None:
    """Change a cohort's settings (meeting day and time, quiet hours, next tick)."""
    await conn.execute(update(cohorts_t).where(cohorts_t.c.id == cohort_id).values(**values))


async def get_cohort(
    conn: AsyncConnection,
    *,
    code: str | None = None,
    join_code: str | None = None,
    cohort_id: int | None = None,
) -> Row[Any] | None:
    """One cohort by its code (case-insensitive), its join code or its id."""
    stmt = select(cohorts_t)
    if code is not None:
        stmt = stmt.where(func.upper(cohorts_t.c.code) == code.upper())
    elif join_code is not None:
        return (await conn.execute(_COHORT_BY_JOIN_CODE, {"join_code": join_code.upper()})).first()
    elif cohort_id is not None:
        stmt = stmt.where(cohorts_t.c.id == cohort_id)
    else:
        raise TypeError("give code, join_code or cohort_id")
    return (await conn.execute(stmt)).first()


_COHORT_BY_JOIN_CODE = select(cohorts_t).where(cohorts_t.c.join_code == bindparam("join_code"))


async def list_cohorts(conn: AsyncConnection) -> Sequence[Row[Any]]:
    """All cohorts with their participant counts, by region then code."""
    count = (
        select(func.count())
        .where(
            memberships_t.c.cohort_id == cohorts_t.c.id,
            memberships_t.c.role.in_((PARTICIPANT, INVITED)),  # places taken
        )
        .scalar_subquery()
    )
    stmt = select(cohorts_t, count.label("participants")).order_by(
        cohorts_t.c.region, cohorts_t.c.code
    )
    return (await conn.execute(stmt)).all()


async def lock_cohort(conn: AsyncConnection, *, cohort_id: int) -> Row[Any] | None:
    """The cohort, locked until the transaction ends (so its places are counted once)."""
    stmt = select(cohorts_t).where(cohorts_t.c.id == cohort_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


# --- memberships ----------------------------------------------------------------------


async def add_membership(
    conn: AsyncConnection,
    *,
    person_id: int,
    role: str,
    now: dt.datetime,
    cohort_id: int | None = None,
    region: str | None = None,
) -> int:
    if role not in (PARTICIPANT, INVITED, *STAFF_ROLES):
        raise ValueError(f"unknown role {role!r}")
    if role == ADMIN:
        if cohort_id is not None or region is not None:
            raise ValueError("an admin holds neither a cohort nor a region")
    elif (cohort_id is None) == (region is None):
        raise ValueError("a membership holds either a cohort or a region")
    result = await conn.execute(
        insert(memberships_t)
        .values(person_id=person_id, cohort_id=cohort_id, role=role, region=region, created_at=now)
        .returning(memberships_t.c.id)
    )
    membership_id = int(result.scalar_one())
    if role == PARTICIPANT and cohort_id is not None:  # their answers count there now
        await tallies.person_joined(conn, person_id, cohort_id, now=now)
    return membership_id


_COUNT_MEMBERS = select(func.count()).where(
    memberships_t.c.cohort_id == bindparam("cohort_id"),
    memberships_t.c.role.in_(bindparam("roles", expanding=True)),
)


async def count_members(conn: AsyncConnection, *, cohort_id: int, role: str = PARTICIPANT) -> int:
    """How many hold `role` in the cohort; participants include the pre-registered, who
    hold a place."""
    roles = [PARTICIPANT, INVITED] if role == PARTICIPANT else [role]
    params = {"cohort_id": cohort_id, "roles": roles}
    return int((await conn.execute(_COUNT_MEMBERS, params)).scalar_one())


async def cohort_staff(conn: AsyncConnection, *, cohort_id: int) -> Sequence[Row[Any]]:
    stmt = (
        select(people_t.c.id, people_t.c.name, memberships_t.c.role)
        .join(memberships_t, memberships_t.c.person_id == people_t.c.id)
        .where(memberships_t.c.cohort_id == cohort_id, memberships_t.c.role != PARTICIPANT)
        .order_by(memberships_t.c.id)
    )
    return (await conn.execute(stmt)).all()
