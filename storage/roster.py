"""The cohort roster the staff views read: one entry per participant, however many
contacts they have, with how far they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.roles import PARTICIPANT
from storage.tables import contacts_t, memberships_t, people_t, progress_t


async def roster(conn: AsyncConnection, *, cohort_ids: Sequence[int]) -> list[RosterEntry]:
    """The cohorts' participants, one entry each, by cohort and name."""
    if not cohort_ids:
        return []
    done = (
        select(
            progress_t.c.person_id,
            func.count().label("weeks_done"),
            func.max(progress_t.c.week).label("top_week"),
        )
        .where(progress_t.c.cohort_id.in_(cohort_ids), progress_t.c.status == "done")
        .group_by(progress_t.c.person_id)
        .subquery()
    )
    opened = (
        select(progress_t.c.person_id, func.max(progress_t.c.week).label("open_week"))
        .where(progress_t.c.cohort_id.in_(cohort_ids), progress_t.c.status == "open")
        .group_by(progress_t.c.person_id)
        .subquery()
    )
    stmt = (
        select(
            memberships_t.c.cohort_id,
            people_t.c.id.label("person_id"),
            people_t.c.name,
            people_t.c.village,
            people_t.c.language,
            func.coalesce(done.c.weeks_done, 0).label("weeks_done"),
            func.coalesce(done.c.top_week, 0).label("top_week"),
            opened.c.open_week,
            contacts_t.c.id.label("contact_id"),
            contacts_t.c.last_inbound_at,
            contacts_t.c.opted_out,
            contacts_t.c.unreachable,
        )
        .select_from(
            memberships_t.join(people_t, people_t.c.id == memberships_t.c.person_id)
            .join(contacts_t, contacts_t.c.person_id == people_t.c.id)
            .outerjoin(done, done.c.person_id == people_t.c.id)
            .outerjoin(opened, opened.c.person_id == people_t.c.id)
        )
        .where(memberships_t.c.cohort_id.in_(cohort_ids), memberships_t.c.role == PARTICIPANT)
        .order_by(
            memberships_t.c.cohort_id,
            people_t.c.id,
            contacts_t.c.last_inbound_at.desc().nulls_last(),
            contacts_t.c.id,
        )
    )
    merged: dict[int, RosterEntry] = {}
    for row in (await conn.execute(stmt)).all():
        seen = merged.get(row.person_id)
        if seen is None:  # the first contact is the one they last wrote from
            merged[row.person_id] = RosterEntry(
                cohort_id=row.cohort_id,
                person_id=row.person_id,
                name=row.name,
                village=row.village,
                language=row.language,
                weeks_done=int(row.weeks_done),
                top_week=int(row.top_week),
                open_week=row.open_week,
                contact_id=row.contact_id,
                last_active=row.last_inbound_at,
                opted_out=bool(row.opted_out),
                unreachable=bool(row.unreachable),
            )
            continue
        last = seen.last_active
        if row.last_inbound_at and (last is None or row.last_inbound_at > last):
            last = row.last_inbound_at
        merged[row.person_id] = replace(
            seen,
            last_active=last,
            opted_out=seen.opted_out and bool(row.opted_out),
            unreachable=seen.unreachable and bool(row.unreachable),
        )
    return sorted(merged.values(), key=lambda r: (r.cohort_id, (r.name or "").lower(), r.person_id))


@dataclass(frozen=True)
class RosterEntry:
    cohort_id: int
    person_id: int
    name: str | None
    village: str | None
    language: str
    weeks_done: int
    top_week: int  # the highest week finished, 0 if none
    open_week: int | None  # the week they have open, if any
    contact_id: int  # the contact they last wrote from
    last_active: dt.datetime | None  # their last message on any channel
    opted_out: bool  # on every contact
    unreachable: bool  # on every contact
