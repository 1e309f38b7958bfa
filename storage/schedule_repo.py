"""What the scheduler reads and writes: due cohorts, silent sessions, nudge keys.

A tick reads only what is due: cohorts whose `next_tick_at` has come, and sessions
whose silence has reached the next rung of the ladder (indexed on stage and time).
On PostgreSQL both are claimed with FOR UPDATE SKIP LOCKED, so that with several
workers each piece of work is done by one of them; on every database the unique
nudge key makes a nudge happen once, even across a crash and restart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select, true, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import bulk
from storage.roles import FACILITATOR, PARTICIPANT
from storage.tables import (
    answers_t,
    cohorts_t,
    contacts_t,
    memberships_t,
    nudges_t,
    people_t,
    progress_t,
    sessions_t,
)


async def due_cohorts(conn: AsyncConnection, *, now: dt.datetime, limit: int) -> Sequence[Row[Any]]:
    """Cohorts whose next scheduled moment has come (or was never worked out)."""
    stmt = (
        select(
            cohorts_t.c.id,
            cohorts_t.c.code,
            cohorts_t.c.name,
            cohorts_t.c.region,
            cohorts_t.c.language,
            cohorts_t.c.timezone,
            cohorts_t.c.start_date,
            cohorts_t.c.pauses,
            cohorts_t.c.meeting_day,
            cohorts_t.c.meeting_time,
            cohorts_t.c.quiet_start,
            cohorts_t.c.quiet_end,
            cohorts_t.c.next_tick_at,
            cohorts_t.c.created_at,
        )
        .where(or_(cohorts_t.c.next_tick_at <= now, cohorts_t.c.next_tick_at.is_(None)))
        .order_by(cohorts_t.c.next_tick_at, cohorts_t.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return (await conn.execute(stmt)).all()


_SQLITE_NEXT_TICK = "UPDATE cohorts SET next_tick_at = ? WHERE id = ?"
_PG_NEXT_TICK = (
    "UPDATE cohorts SET next_tick_at = t.at "
    "FROM unnest($1::bigint[], $2::timestamp[]) AS t(id, at) WHERE cohorts.id = t.id"
)


async def set_next_ticks(
    conn: AsyncConnection, *, values: Iterable[tuple[int, dt.datetime | None]]
) -> None:
    """Each cohort's next moment; None when its programme is over."""
    rows = [(cid, bulk.stored_time(conn, at)) for cid, at in values]
    if rows:
        await bulk.write(
            conn,
            sqlite=(_SQLITE_NEXT_TICK, [(at, cid) for cid, at in rows]),
            postgres=(_PG_NEXT_TICK, bulk.columns(rows, 2)),
        )


NUDGE_COLUMNS = ("key", "person_id", "cohort_id", "kind", "week", "due_at", "created_at", "status")
_SQLITE_NUDGE = (
    "INSERT INTO nudges (key, person_id, cohort_id, kind, week, due_at, created_at, status) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
)
_PG_NUDGE = (
    "INSERT INTO nudges (key, person_id, cohort_id, kind, week, due_at, created_at, status) "
    "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::int[], "
    "$6::timestamp[], $7::timestamp[], $8::text[]) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)


async def claim_keys(conn: AsyncConnection, *, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Record nudges by key; returns the keys that are new (the rest happened before).

    The rows' cohorts or sessions are claimed by this worker (SKIP LOCKED), so no other
    worker records the same keys meanwhile; ON CONFLICT makes sure of it anyway.
    """
    if not rows:
        return set()
    values = [
        tuple(
            bulk.stored_time(conn, r[name]) if name in ("due_at", "created_at") else r[name]
            for name in NUDGE_COLUMNS
        )
        for r in rows
    ]
    if conn.dialect.name == "postgresql":
        new = await bulk.write(
            conn, sqlite=(_SQLITE_NUDGE, values), postgres=(_PG_NUDGE, bulk.columns(values, 8))
        )
        return {str(key) for (key,) in new}
    wanted = [str(r["key"]) for r in rows]
    seen: set[str] = set()
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        found = await conn.execute(select(nudges_t.c.key).where(nudges_t.c.key.in_(chunk)))
        seen.update(k for (k,) in found.all())
    fresh = [row for row in values if row[0] not in seen]
    await bulk.write(conn, sqlite=(_SQLITE_NUDGE, fresh), postgres=None)
    return {str(row[0]) for row in fresh}


class Member(NamedTuple):
    """A participant of a cohort whose moment has come, as `participants` reads them."""

    cohort_id: int
    opening: int  # the week opening in their cohort now, or 0
    person_id: int
    name: str | None
    language: str
    contact_id: int  # their best contact: the one they last wrote from
    channel: str
    opted_out: bool
    unreachable: bool
    session_flow: str | None
    nudge_stage: int | None
    goal: str | None  # the goal answer's display as stored: JSON text
    # Of the opening week and the week before it, the later one they finished, if any:
    # `opening - 1` when they are ready for it (one index lookup, not two).
    last_done: int | None

    @property
    def ready(self) -> bool:
        """Finished the week before the opening one, and not the opening one."""
        return self.opening > 0 and self.last_done == self.opening - 1


_PARTICIPANTS = """
SELECT w.cohort_id, w.week, p.id, p.name, p.language, c.id, c.channel, c.opted_out,
       c.unreachable, s.flow, s.nudge_stage, CAST(g.display AS TEXT), w.last_done
FROM (
    SELECT due.cohort_id, due.week, due.everyone, m.person_id,
           (SELECT max(pr.week) FROM progress pr WHERE pr.person_id = m.person_id
            AND pr.cohort_id = m.cohort_id AND pr.week BETWEEN due.week - 1 AND due.week
            AND pr.status = 'done') AS last_done
    FROM due
    JOIN memberships m ON m.cohort_id = due.cohort_id AND m.role = {role}{cohorts}
) AS w
JOIN people p ON p.id = w.person_id
JOIN contacts c ON c.person_id = p.id
LEFT JOIN flow_sessions s ON s.person_id = p.id
LEFT JOIN answers g ON g.person_id = p.id AND g.key = {goal}
WHERE w.everyone = 1 OR (w.last_done = w.week - 1 AND s.person_id IS NULL)
ORDER BY p.id, w.week, c.last_inbound_at DESC NULLS LAST, c.id
"""
_PG_PARTICIPANTS = (
    "WITH due (cohort_id, week, everyone) AS "
    "(SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[]))"
    # The cohorts again, as an index condition: read only theirs, even on a database
    # whose statistics are not there yet (freshly loaded: a hash join over everyone).
    + _PARTICIPANTS.format(role="$4", goal="$5", cohorts=" AND m.cohort_id = ANY($1)")
)


async def participants(
    conn: AsyncConnection, *, weeks: Sequence[tuple[int, int, bool]], goal_key: str
) -> list[Member]:
    """Participants of some cohorts, in one read, for each (cohort id, the week that
    opens there now or 0, everyone): all of the cohort's participants when `everyone`
    (a meeting reminder or a digest goes to them), otherwise only those ready for the
    opening week and without a session (the ones its unlock goes to). Each comes once
    per (cohort, week), with their best contact, their session, their goal and how
    far they are (see `Member`).

    A tick reads thousands of them: straight through the driver (storage/bulk.py).
    """
    if not weeks:
        return []
    values = ", ".join("(?, ?, ?)" for _ in weeks)
    sqlite = (
        f"WITH due (cohort_id, week, everyone) AS (VALUES {values})"
        + _PARTICIPANTS.format(role="?", goal="?", cohorts=""),
        [*(v for c, w, e in weeks for v in (c, w, int(e))), PARTICIPANT, goal_key],
    )
    postgres = (
        _PG_PARTICIPANTS,
        [
            [c for c, _w, _e in weeks],
            [w for _c, w, _e in weeks],
            [int(e) for _c, _w, e in weeks],
            PARTICIPANT,
            goal_key,
        ],
    )
    members: list[Member] = []
    last: tuple[int, int] | None = None
    for row in await bulk.fetch(conn, sqlite=sqlite, postgres=postgres):
        # Ordered by person and week, their best contact first: keep the first row of each.
        if (row[2], row[1]) != last:
            last = (row[2], row[1])
            members.append(tuple.__new__(Member, row))
    return members


def _first_per_person(rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    """Each person's first row: their best contact, as the query ordered them."""
    best: dict[int, Row[Any]] = {}
    for row in rows:
        best.setdefault(row.person_id, row)
    return list(best.values())


async def facilitators(conn: AsyncConnection, *, cohort_ids: Sequence[int]) -> Sequence[Row[Any]]:
    """The cohorts' facilitators, each with every contact they have."""
    stmt = (
        select(
            memberships_t.c.cohort_id,
            people_t.c.id.label("person_id"),
            people_t.c.name,
            people_t.c.language,
            contacts_t.c.id.label("contact_id"),
            contacts_t.c.channel,
        )
        .select_from(
            memberships_t.join(people_t, people_t.c.id == memberships_t.c.person_id).join(
                contacts_t, contacts_t.c.person_id == people_t.c.id
            )
        )
        .where(memberships_t.c.cohort_id.in_(cohort_ids), memberships_t.c.role == FACILITATOR)
        .order_by(memberships_t.c.id, contacts_t.c.id)
    )
    return (await conn.execute(stmt)).all()


async def done_weeks(
    conn: AsyncConnection, *, cohort_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """person → (weeks done, the highest week done) in these cohorts."""
    stmt = (
        select(progress_t.c.person_id, func.count(), func.max(progress_t.c.week))
        .where(progress_t.c.cohort_id.in_(cohort_ids), progress_t.c.status == "done")
        .group_by(progress_t.c.person_id)
    )
    return {pid: (int(n), int(top)) for pid, n, top in (await conn.execute(stmt)).all()}


async def cohort_names(conn: AsyncConnection, *, cohort_ids: Sequence[int]) -> dict[int, Row[Any]]:
    """id → (name, meeting_day) of these cohorts."""
    stmt = select(cohorts_t.c.id, cohorts_t.c.name, cohorts_t.c.meeting_day).where(
        cohorts_t.c.id.in_(cohort_ids)
    )
    return {row.id: row for row in (await conn.execute(stmt)).all()}


PENDING_STATE = '{"pending_start": true}'  # a session the person's next message starts


async def start_pending_sessions(
    conn: AsyncConnection, *, rows: Sequence[tuple[int, int, str, str]], now: dt.datetime
) -> None:
    """A week waiting for each person (person_id, cohort_id, flow, first step): their
    next message starts it; silence is counted from now. People who have a session
    already keep it."""
    await bulk.insert_sessions(conn, rows=[(*row, PENDING_STATE) for row in rows], now=now)


async def silent_sessions(
    conn: AsyncConnection,
    *,
    now: dt.datetime,
    ladder: Sequence[dt.timedelta],
    limit: int,
    after: tuple[dt.datetime, int] | None = None,
) -> Sequence[Row[Any]]:
    """Week sessions whose silence has reached their next rung, with who and where,
    oldest silence first; `after` (updated_at, person_id) goes on past the last seen.

    Silence here is wall-clock time: a paused cohort's sessions may come back before
    their rung is due (flows/pacing.py's `silence` decides)."""
    if not ladder:
        return []
    due = or_(
        *(
            and_(sessions_t.c.nudge_stage == stage, sessions_t.c.updated_at <= now - after)
            for stage, after in enumerate(ladder)
        )
    )
    stmt = (
        select(
            sessions_t.c.person_id,
            sessions_t.c.cohort_id,
            sessions_t.c.flow,
            sessions_t.c.state,
            sessions_t.c.updated_at,
            sessions_t.c.nudge_stage,
            cohorts_t.c.code,
            cohorts_t.c.timezone,
            cohorts_t.c.start_date,
            cohorts_t.c.pauses,
            cohorts_t.c.quiet_start,
            cohorts_t.c.quiet_end,
        )
        .select_from(
            sessions_t.join(cohorts_t, cohorts_t.c.id == sessions_t.c.cohort_id).join(
                memberships_t,
                and_(
                    memberships_t.c.person_id == sessions_t.c.person_id,
                    memberships_t.c.cohort_id == sessions_t.c.cohort_id,
                    memberships_t.c.role == PARTICIPANT,
                ),
            )
        )
        .where(due)
        .where(
            true()
            if after is None
            else or_(
                sessions_t.c.updated_at > after[0],
                and_(sessions_t.c.updated_at == after[0], sessions_t.c.person_id > after[1]),
            )
        )
        .order_by(sessions_t.c.updated_at, sessions_t.c.person_id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=sessions_t, skip_locked=True)
    return (await conn.execute(stmt)).all()


async def set_stages(conn: AsyncConnection, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Move sessions up the ladder, unless the person wrote in the meantime."""
    if not rows:
        return
    await conn.execute(
        update(sessions_t)
        .where(
            sessions_t.c.person_id == bindparam("pid"), sessions_t.c.updated_at == bindparam("seen")
        )
        .values(nudge_stage=bindparam("stage")),
        [{"pid": r["person_id"], "seen": r["seen"], "stage": r["stage"]} for r in rows],
    )


async def answers_of(
    conn: AsyncConnection, *, person_ids: Sequence[int], keys: Sequence[str]
) -> dict[tuple[int, str], Mapping[str, str]]:
    """(person, key) → how the answer is shown per locale, for the keys asked."""
    out: dict[tuple[int, str], Mapping[str, str]] = {}
    for start in range(0, len(person_ids), 900):
        stmt = select(answers_t.c.person_id, answers_t.c.key, answers_t.c.display).where(
            answers_t.c.person_id.in_(person_ids[start : start + 900]),
            answers_t.c.key.in_(keys),
        )
        for pid, key, display in (await conn.execute(stmt)).all():
            out[(pid, key)] = display or {}
    return out


async def person_contacts(
    conn: AsyncConnection, *, person_ids: Sequence[int]
) -> Sequence[Row[Any]]:
    """People with their best contact (the one they last wrote from)."""
    stmt = (
        select(
            people_t.c.id.label("person_id"),
            people_t.c.name,
            people_t.c.language,
            contacts_t.c.id.label("contact_id"),
            contacts_t.c.channel,
            contacts_t.c.opted_out,
            contacts_t.c.unreachable,
            contacts_t.c.last_inbound_at,
        )
        .select_from(people_t.join(contacts_t, contacts_t.c.person_id == people_t.c.id))
        .where(people_t.c.id.in_(person_ids))
        .order_by(people_t.c.id, contacts_t.c.last_inbound_at.desc().nulls_last(), contacts_t.c.id)
    )
    return _first_per_person((await conn.execute(stmt)).all())


__all__ = [
    "Member",
    "answers_of",
    "claim_keys",
    "cohort_names",
    "done_weeks",
    "due_cohorts",
    "facilitators",
    "participants",
    "person_contacts",
    "set_next_ticks",
    "set_stages",
    "silent_sessions",
    "start_pending_sessions",
]
