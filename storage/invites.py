"""Invites and pre-registration.

Invites: a one-time code that makes whoever sends it a staff member (`jamaah staff
invite`).

Pre-registration: `jamaah cohort import` gives a person (name, village), a WhatsApp
contact and a membership with role INVITED in their cohort. INVITED is not PARTICIPANT:
the person has not consented yet, so nothing that reads participants (the identity,
the scheduler, the roster, broadcasts, exports) sees them; the cohort's capacity does
count them (cohorts.count_members). When they first write they are asked for consent;
yes turns the membership into a participant one, no deletes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tallies
from storage.roles import INVITED, PARTICIPANT
from storage.tables import cohorts_t, invites_t, memberships_t

# --- invites --------------------------------------------------------------------------


async def create_invite(
    conn: AsyncConnection,
    *,
    code: str,
    role: str,
    created_by: str,
    now: dt.datetime,
    expires_at: dt.datetime,
    cohort_id: int | None = None,
    region: str | None = None,
) -> int:
    result = await conn.execute(
        insert(invites_t)
        .values(
            code=code,
            role=role,
            cohort_id=cohort_id,
            region=region,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(invites_t.c.id)
    )
    return int(result.scalar_one())


async def invite_code_taken(conn: AsyncConnection, *, code: str) -> bool:
    found = await conn.execute(select(invites_t.c.id).where(invites_t.c.code == code))
    return found.first() is not None


async def invite_by_code(conn: AsyncConnection, *, code: str) -> Row[Any] | None:
    """The invite with this (normalised, upper-case) code, with its cohort's code."""
    stmt = (
        select(invites_t, cohorts_t.c.code.label("cohort_code"))
        .select_from(invites_t.outerjoin(cohorts_t, cohorts_t.c.id == invites_t.c.cohort_id))
        .where(invites_t.c.code == code)
    )
    return (await conn.execute(stmt)).first()


async def claim_invite(
    conn: AsyncConnection, *, invite_id: int, person_id: int, now: dt.datetime
) -> bool:
    """Mark the invite used by `person_id`; False when someone else got there first or it
    expired meanwhile. One conditional UPDATE: two people sending the code at once cannot
    both have it (on PostgreSQL the second waits for the first's commit, then matches
    no row; SQLite runs one writer at a time)."""
    result = await conn.execute(
        update(invites_t)
        .where(
            invites_t.c.id == invite_id,
            invites_t.c.used_by.is_(None),
            invites_t.c.used_at.is_(None),
            invites_t.c.expires_at > now,
        )
        .values(used_by=person_id, used_at=now)
    )
    return result.rowcount == 1


# --- pre-registered participants ------------------------------------------------------


async def add_invited(
    conn: AsyncConnection, *, person_id: int, cohort_id: int, now: dt.datetime
) -> int:
    """A pre-registered (not yet consented) membership in `cohort_id`."""
    result = await conn.execute(
        insert(memberships_t)
        .values(person_id=person_id, cohort_id=cohort_id, role=INVITED, created_at=now)
        .returning(memberships_t.c.id)
    )
    return int(result.scalar_one())


async def invited_cohort(conn: AsyncConnection, *, person_id: int) -> Row[Any] | None:
    """The cohort this person was pre-registered in and has not yet joined, if any."""
    stmt = (
        select(cohorts_t)
        .join(memberships_t, memberships_t.c.cohort_id == cohorts_t.c.id)
        .where(memberships_t.c.person_id == person_id, memberships_t.c.role == INVITED)
        .order_by(memberships_t.c.id)
        .limit(1)
    )
    return (await conn.execute(stmt)).first()


async def accept_invited(
    conn: AsyncConnection, *, person_id: int, cohort_id: int, now: dt.datetime
) -> bool:
    """They consented: the pre-registered membership becomes a participant one."""
    result = await conn.execute(
        update(memberships_t)
        .where(
            memberships_t.c.person_id == person_id,
            memberships_t.c.cohort_id == cohort_id,
            memberships_t.c.role == INVITED,
        )
        .values(role=PARTICIPANT)
    )
    if result.rowcount != 1:
        return False
    await tallies.person_joined(conn, person_id, cohort_id, now=now)
    return True


async def drop_invited(conn: AsyncConnection, *, person_id: int) -> int:
    """They declined: the pre-registration goes."""
    result = await conn.execute(
        delete(memberships_t).where(
            memberships_t.c.person_id == person_id, memberships_t.c.role == INVITED
        )
    )
    return int(result.rowcount or 0)
