"""Repositories: keyword-only async functions on one connection.

The caller owns the transaction (`async with engine.begin() as conn`), so the
dispatcher applies a turn's effects atomically. Queries use SQLAlchemy Core on the
model tables; every function states what it reads or writes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tallies
from storage.models import UTCDateTime
from storage.roles import ADMIN as ADMIN
from storage.roles import COORDINATOR as COORDINATOR
from storage.roles import FACILITATOR as FACILITATOR
from storage.roles import INVITED as INVITED
from storage.roles import PARTICIPANT as PARTICIPANT
from storage.roles import STAFF_ROLES as STAFF_ROLES
from storage.sql import upsert
from storage.tables import answers_t as answers_t
from storage.tables import audit_t as audit_t
from storage.tables import cohorts_t, contacts_t, memberships_t, people_t, sessions_t
from storage.tables import documents_t as documents_t
from storage.tables import inbound_t as inbound_t
from storage.tables import outbox_t as outbox_t
from storage.tables import progress_t as progress_t
from storage.tables import state_t as state_t

# The tables under the names callers use (storage/tables.py names them all `*_t`).
cohorts, people, contacts = cohorts_t, people_t, contacts_t
memberships, sessions = memberships_t, sessions_t


# --- inbound -----------------------------------------------------------------------


_RECORD_INBOUND = upsert(
    "INSERT INTO inbound_log (channel, external_id, received_at) "
    "VALUES (:channel, :external_id, :now) "
    "ON CONFLICT (channel, external_id) DO NOTHING RETURNING id",
    now=UTCDateTime(),
)


async def record_inbound(
    conn: AsyncConnection, *, channel: str, external_id: str, now: dt.datetime
) -> bool:
    """Log an inbound message; False when (channel, external_id) was seen before."""
    params = {"channel": channel, "external_id": external_id, "now": now}
    return (await conn.execute(_RECORD_INBOUND, params)).first() is not None


async def lock_sender(conn: AsyncConnection, *, channel: str, address: str) -> None:
    """Hold one sender's messages to one turn at a time, until the transaction ends.

    On PostgreSQL two workers could otherwise handle two messages of one person at once
    and the later commit would overwrite the earlier's conversation state (or both would
    create the same new contact). SQLite needs nothing: BEGIN IMMEDIATE already lets
    one writer in at a time.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(_LOCK_SENDER, {"key": f"{channel}:{address}"})


_LOCK_SENDER = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


# --- cohorts -----------------------------------------------------------------------


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


_COHORT_BY_JOIN_CODE = select(cohorts_t).where(cohorts_t.c.join_code == bindparam("join_code"))
_COUNT_MEMBERS = select(func.count()).where(
    memberships_t.c.cohort_id == bindparam("cohort_id"),
    memberships_t.c.role.in_(bindparam("roles", expanding=True)),
)


async def lock_cohort(conn: AsyncConnection, *, cohort_id: int) -> Row[Any] | None:
    """The cohort, locked until the transaction ends (so its places are counted once)."""
    stmt = select(cohorts_t).where(cohorts_t.c.id == cohort_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


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


# --- people and contacts ------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who wrote, with what a turn needs to answer them (one query)."""

    contact_id: int
    person_id: int
    name: str | None
    village: str | None
    language: str
    opted_out: bool
    cohort_id: int | None  # the cohort they take part in, if any
    cohort_name: str | None
    cohort_code: str | None
    meeting_day: str | None
    facilitator: str | None
    session_flow: str | None
    session_step: str | None
    session_state: Mapping[str, Any] | None
    session_cohort_id: int | None
    last_inbound_at: dt.datetime | None
    unreachable: bool
    display_name: str | None
    timezone: str | None  # the cohort's, for local dates


def _identity_statement() -> Any:
    facilitator = (
        select(people_t.c.name)
        .select_from(memberships_t.join(people_t, people_t.c.id == memberships_t.c.person_id))
        .where(memberships_t.c.cohort_id == cohorts_t.c.id, memberships_t.c.role == FACILITATOR)
        .order_by(memberships_t.c.id)
        .limit(1)
        .scalar_subquery()
    )
    part = memberships_t.alias("part")
    return (
        select(
            contacts_t.c.id,
            contacts_t.c.person_id,
            people_t.c.name,
            people_t.c.village,
            people_t.c.language,
            contacts_t.c.opted_out,
            cohorts_t.c.id,
            cohorts_t.c.name,
            cohorts_t.c.code,
            cohorts_t.c.meeting_day,
            facilitator,
            sessions_t.c.flow,
            sessions_t.c.step,
            sessions_t.c.state,
            sessions_t.c.cohort_id,
            contacts_t.c.last_inbound_at,
            contacts_t.c.unreachable,
            contacts_t.c.display_name,
            cohorts_t.c.timezone,
        )
        .select_from(
            contacts_t.join(people_t, people_t.c.id == contacts_t.c.person_id)
            .outerjoin(part, and_(part.c.person_id == people_t.c.id, part.c.role == PARTICIPANT))
            .outerjoin(cohorts_t, cohorts_t.c.id == part.c.cohort_id)
            .outerjoin(sessions_t, sessions_t.c.person_id == people_t.c.id)
        )
        .where(
            contacts_t.c.channel == bindparam("channel"),
            contacts_t.c.address == bindparam("address"),
        )
        .limit(1)
    )


_IDENTITY = _identity_statement()


async def find_identity(conn: AsyncConnection, *, channel: str, address: str) -> Identity | None:
    """Who this contact is, their cohort, its facilitator and their session: one query."""
    row = (await conn.execute(_IDENTITY, {"channel": channel, "address": address})).first()
    return Identity(*row) if row else None


async def create_person(
    conn: AsyncConnection,
    *,
    channel: str,
    address: str,
    display_name: str | None,
    language: str,
    now: dt.datetime,
    name: str | None = None,
) -> tuple[int, int]:
    """A new person with one contact; returns (person_id, contact_id)."""
    person_id = (
        await conn.execute(
            insert(people_t)
            .values(name=name, language=language, created_at=now)
            .returning(people_t.c.id)
        )
    ).scalar_one()
    contact_id = await add_contact(
        conn,
        person_id=person_id,
        channel=channel,
        address=address,
        now=now,
        display_name=display_name,
    )
    return int(person_id), int(contact_id)


_TOUCH_CONTACT = (
    update(contacts_t)
    .where(contacts_t.c.id == bindparam("contact_id"))
    .values(
        last_inbound_at=bindparam("now", type_=contacts_t.c.last_inbound_at.type),
        unreachable=False,
        display_name=func.coalesce(
            bindparam("display_name", type_=String()), contacts_t.c.display_name
        ),
    )
)


async def touch_contact(
    conn: AsyncConnection, *, contact_id: int, now: dt.datetime, display_name: str | None
) -> None:
    """The contact just wrote: note the time; they are reachable again."""
    params = {"contact_id": contact_id, "now": now, "display_name": display_name or None}
    await conn.execute(_TOUCH_CONTACT, params)


async def update_person(conn: AsyncConnection, *, person_id: int, **values: Any) -> None:
    allowed = {"name", "village", "language", "consent_at"}
    if not values or set(values) - allowed:
        raise TypeError(f"update_person takes {', '.join(sorted(allowed))}")
    await conn.execute(update(people_t).where(people_t.c.id == person_id).values(**values))


# --- memberships --------------------------------------------------------------------


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


async def roles_of(conn: AsyncConnection, *, person_id: int) -> Sequence[Row[Any]]:
    """The person's memberships with their cohort's code, if any (a pre-registration,
    not yet consented to, is no role)."""
    stmt = (
        select(memberships_t.c.role, memberships_t.c.region, cohorts_t.c.code, cohorts_t.c.name)
        .select_from(
            memberships_t.outerjoin(cohorts_t, cohorts_t.c.id == memberships_t.c.cohort_id)
        )
        .where(memberships_t.c.person_id == person_id, memberships_t.c.role != INVITED)
        .order_by(memberships_t.c.id)
    )
    return (await conn.execute(stmt)).all()


# --- flow sessions ------------------------------------------------------------------


_SAVE_SESSION = upsert(
    "INSERT INTO flow_sessions (person_id, cohort_id, flow, step, state, updated_at) "
    "VALUES (:person_id, :cohort_id, :flow, :step, :state, :now) "
    "ON CONFLICT (person_id) DO UPDATE SET cohort_id = excluded.cohort_id, "
    "flow = excluded.flow, step = excluded.step, state = excluded.state, "
    "updated_at = excluded.updated_at, nudge_stage = 0",
    state=JSON(),
    now=UTCDateTime(),
)


async def save_session(
    conn: AsyncConnection,
    *,
    person_id: int,
    cohort_id: int | None,
    flow: str,
    step: str,
    state: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    """Create or replace the person's one current session."""
    await conn.execute(
        _SAVE_SESSION,
        {
            "person_id": person_id,
            "cohort_id": cohort_id,
            "flow": flow,
            "step": step,
            "state": dict(state),
            "now": now,
        },
    )


_DELETE_SESSION = delete(sessions_t).where(sessions_t.c.person_id == bindparam("person_id"))


async def delete_session(conn: AsyncConnection, *, person_id: int) -> None:
    await conn.execute(_DELETE_SESSION, {"person_id": person_id})


# --- answers ------------------------------------------------------------------------


_LOAD_ANSWERS = select(answers_t.c.key, answers_t.c.value, answers_t.c.display).where(
    answers_t.c.person_id == bindparam("person_id")
)
_ANSWER_HISTORY = select(answers_t.c.value, answers_t.c.history, answers_t.c.updated_at).where(
    answers_t.c.person_id == bindparam("person_id"), answers_t.c.key == bindparam("key")
)
UNKNOWN = object()  # save_answer: the caller does not know whether the answer exists
_INSERT_NEW_ANSWER = upsert(
    "INSERT INTO answers (person_id, key, value, display, history, updated_at) "
    "VALUES (:person_id, :key, :value, :display, :history, :updated_at) "
    "ON CONFLICT (person_id, key) DO NOTHING RETURNING id",
    value=JSON(),
    display=JSON(),
    history=JSON(),
    updated_at=UTCDateTime(),
)
_UPDATE_ANSWER = update(answers_t).where(
    answers_t.c.person_id == bindparam("p_id"), answers_t.c.key == bindparam("p_key")
)


async def load_answers(conn: AsyncConnection, *, person_id: int) -> dict[str, Row[Any]]:
    """The person's answers by key: rows with key, value and display (not the history)."""
    rows = (await conn.execute(_LOAD_ANSWERS, {"person_id": person_id})).all()
    return {row.key: row for row in rows}


async def save_answer(
    conn: AsyncConnection,
    *,
    person_id: int,
    key: str,
    value: Any,
    display: Mapping[str, str],
    now: dt.datetime,
    exists: bool | object = UNKNOWN,
) -> None:
    """Save an answer; a changed answer keeps the earlier value in its history.

    `exists` says whether the person has answered `key` before, when the caller knows
    (from `load_answers`); it saves a read on the path of every answer. An answer that
    /progres counts (storage/tallies.py) works their cohort's tally out again.
    """
    first = False
    if exists is not True:  # most answers are given once: try the insert first
        inserted = await conn.execute(
            _INSERT_NEW_ANSWER,
            {
                "person_id": person_id,
                "key": key,
                "value": value,
                "display": dict(display),
                "history": [],
                "updated_at": now,
            },
        )
        first = inserted.first() is not None
    if not first:  # a changed answer: the earlier value goes into its history
        previous = await answer_history(conn, person_id=person_id, key=key)
        if previous is None:  # pragma: no cover - deleted between the two statements
            raise RuntimeError(f"answer {key!r} of person {person_id} vanished while saving")
        history = [
            *(previous.history or []),
            {"value": previous.value, "at": previous.updated_at.isoformat()},
        ]
        await conn.execute(
            _UPDATE_ANSWER,
            {
                "p_id": person_id,
                "p_key": key,
                "value": value,
                "display": dict(display),
                "history": history,
                "updated_at": now,
            },
        )
    if key in _TALLIED:
        await tallies.refresh_person(conn, person_id, now=now)


_TALLIED = frozenset(tallies.ARTEFACT_KEYS)


async def answer_history(conn: AsyncConnection, *, person_id: int, key: str) -> Row[Any] | None:
    """One answer with its history (earlier values and when they were replaced)."""
    return (await conn.execute(_ANSWER_HISTORY, {"person_id": person_id, "key": key})).first()


async def delete_answers(conn: AsyncConnection, *, person_id: int, now: dt.datetime) -> int:
    result = await conn.execute(delete(answers_t).where(answers_t.c.person_id == person_id))
    await tallies.refresh_person(conn, person_id, now=now)
    return int(result.rowcount or 0)


# --- progress -----------------------------------------------------------------------


_OPEN_WEEK = upsert(
    "INSERT INTO progress (person_id, cohort_id, week, status, started_at) "
    "VALUES (:person_id, :cohort_id, :week, 'open', :started_at) "
    "ON CONFLICT (person_id, cohort_id, week) DO NOTHING",
    started_at=UTCDateTime(),
)
_COMPLETE_WEEK = upsert(
    "INSERT INTO progress (person_id, cohort_id, week, status, started_at, completed_at) "
    "VALUES (:person_id, :cohort_id, :week, 'done', :started_at, :completed_at) "
    "ON CONFLICT (person_id, cohort_id, week) DO UPDATE SET status = 'done', "
    "completed_at = COALESCE(progress.completed_at, excluded.completed_at)",
    started_at=UTCDateTime(),
    completed_at=UTCDateTime(),
)


async def open_week(
    conn: AsyncConnection, *, person_id: int, cohort_id: int, week: int, now: dt.datetime
) -> None:
    """Mark a week's module as begun (no change if it was begun or done before)."""
    await conn.execute(
        _OPEN_WEEK,
        {"person_id": person_id, "cohort_id": cohort_id, "week": week, "started_at": now},
    )


async def complete_week(
    conn: AsyncConnection, *, person_id: int, cohort_id: int, week: int, now: dt.datetime
) -> None:
    await conn.execute(
        _COMPLETE_WEEK,
        {
            "person_id": person_id,
            "cohort_id": cohort_id,
            "week": week,
            "started_at": now,
            "completed_at": now,
        },
    )
    await tallies.refresh(conn, [cohort_id], now=now, answers=False)


_LIST_PROGRESS = (
    select(
        progress_t.c.week, progress_t.c.status, progress_t.c.started_at, progress_t.c.completed_at
    )
    .where(
        progress_t.c.person_id == bindparam("person_id"),
        progress_t.c.cohort_id == bindparam("cohort_id"),
    )
    .order_by(progress_t.c.week)
)


async def list_progress(
    conn: AsyncConnection, *, person_id: int, cohort_id: int
) -> Sequence[Row[Any]]:
    params = {"person_id": person_id, "cohort_id": cohort_id}
    return (await conn.execute(_LIST_PROGRESS, params)).all()


# --- outbox -------------------------------------------------------------------------

PRIORITY_REPLY, PRIORITY_NUDGE, PRIORITY_BROADCAST = 0, 1, 2
# Text, with typed parameters: a scheduler tick queues thousands of rows at once, and
# the ORM-level INSERT's per-row processing cost as much as SQLite's own work.
_INSERT_OUTBOX = upsert(
    "INSERT INTO outbox (contact_id, payload, priority, dedupe_key, kind, status, attempts, "
    "next_attempt_at, created_at) VALUES (:contact_id, :payload, :priority, :dedupe_key, "
    ":kind, 'pending', 0, :next_attempt_at, :created_at)",
    payload=JSON(),
    next_attempt_at=UTCDateTime(),
    created_at=UTCDateTime(),
)


async def enqueue(
    conn: AsyncConnection, *, rows: Iterable[Mapping[str, Any]], now: dt.datetime
) -> None:
    """Queue messages: each row has contact_id, payload, priority, optional dedupe_key."""
    values = [
        {
            "contact_id": row["contact_id"],
            "payload": dict(row["payload"]),
            "priority": row.get("priority", PRIORITY_REPLY),
            "dedupe_key": row.get("dedupe_key"),
            "kind": row.get("kind") or row["payload"].get("kind") or "reply",
            "next_attempt_at": row.get("not_before", now),
            "created_at": now,
        }
        for row in rows
    ]
    if values:
        await conn.execute(_INSERT_OUTBOX, values)


async def claim_due(
    conn: AsyncConnection,
    *,
    now: dt.datetime,
    limit: int,
    stale_after: dt.timedelta,
    max_attempts: int = 8,
    channels: Sequence[str] | None = None,
    other_than: Sequence[str] | None = None,
) -> Sequence[Row[Any]]:
    """Claim up to `limit` due messages, most urgent first, oldest first within a lane.

    Only the first waiting message of a chat is claimed: a later one (in its lane or a
    less urgent one) waits while an earlier one is still pending or being sent, so a
    chat receives its messages in order even across retries. `channels` limits the
    claim to contacts on those channels, `other_than` to contacts on any other.

    A message left 'sending' longer than `stale_after` (its sender died) is claimed
    again, unless it has had `max_attempts` already: then it fails, so that a message
    whose sending crashes the process is not tried forever. On PostgreSQL rows are
    locked with SKIP LOCKED, so workers never share one.
    """
    postgres = conn.dialect.name == "postgresql"
    give_up, walks, mark, read = _claim_statements(
        channels is not None, other_than is not None, postgres
    )
    params: dict[str, Any] = {
        "now": now,
        "cutoff": now - stale_after,
        "max_attempts": max_attempts,
        "error": f"gave up after {max_attempts}: the sender stopped",
    }
    if channels is not None:
        params["channels"] = list(channels)
    if other_than is not None:
        params["others"] = list(other_than)
    await conn.execute(give_up, params)
    ids: list[int] = []
    # Two walks, each along an index in claim order so that LIMIT stops it early: the
    # claims a dead sender left (few), then what is waiting, most urgent lane first.
    for walk in walks:
        if len(ids) >= limit:
            break
        found = await conn.execute(walk, {**params, "lim": limit - len(ids)})
        ids += [row.id for row in found.all()]
    if not ids:
        return []
    await conn.execute(mark, {"ids": ids, "now": now})
    return (await conn.execute(read, {"ids": ids})).all()


_CLAIMS: dict[tuple[bool, bool, bool], tuple[Any, tuple[Any, Any], Any, Any]] = {}


def _claim_statements(
    by_channel: bool, other_channels: bool, postgres: bool
) -> tuple[Any, tuple[Any, Any], Any, Any]:
    """The claim's statements, built once: building and keying them cost more than
    SQLite takes to run them (about 2.5 ms against 0.5 ms a claim)."""
    key = (by_channel, other_channels, postgres)
    if key in _CLAIMS:
        return _CLAIMS[key]
    o = outbox_t
    stale = and_(
        o.c.status == "sending", o.c.claimed_at <= bindparam("cutoff", type_=UTCDateTime())
    )
    give_up = (
        update(o)
        .where(stale, o.c.attempts >= bindparam("max_attempts"))
        .values(status="failed", error=bindparam("error"))
    )
    earlier = outbox_t.alias("earlier")
    first_in_chat = ~(
        select(earlier.c.id)
        .where(
            earlier.c.contact_id == o.c.contact_id,
            earlier.c.id < o.c.id,
            earlier.c.status.in_(("pending", "sending")),
            earlier.c.priority <= o.c.priority,
        )
        .exists()
    )
    on_channel = select(contacts_t.c.id).where(contacts_t.c.id == o.c.contact_id)
    if by_channel:
        on_channel = on_channel.where(
            contacts_t.c.channel.in_(bindparam("channels", expanding=True))
        )
    if other_channels:
        on_channel = on_channel.where(
            contacts_t.c.channel.not_in(bindparam("others", expanding=True))
        )
    walks = []
    for due in (
        and_(stale, o.c.attempts < bindparam("max_attempts")),
        and_(o.c.status == "pending", o.c.next_attempt_at <= bindparam("now", type_=UTCDateTime())),
    ):
        pick = select(o.c.id).where(due, first_in_chat)
        if by_channel or other_channels:
            pick = pick.where(on_channel.exists())
        pick = pick.order_by(o.c.priority, o.c.id).limit(bindparam("lim"))
        if postgres:
            pick = pick.with_for_update(of=o, skip_locked=True)
        walks.append(pick)
    ids: Any = bindparam("ids", expanding=True)
    mark = (
        update(o)
        .where(o.c.id.in_(ids))
        .values(
            status="sending",
            claimed_at=bindparam("now", type_=UTCDateTime()),
            attempts=o.c.attempts + 1,
        )
    )
    read = (
        select(
            o.c.id,
            o.c.payload,
            o.c.attempts,
            o.c.priority,
            contacts_t.c.id.label("contact_id"),
            contacts_t.c.channel,
            contacts_t.c.address,
            contacts_t.c.opted_out,
            contacts_t.c.unreachable,
            contacts_t.c.last_inbound_at,
        )
        .join(contacts_t, contacts_t.c.id == o.c.contact_id)
        .where(o.c.id.in_(ids))
        .order_by(o.c.priority, o.c.id)
    )
    _CLAIMS[key] = (give_up, (walks[0], walks[1]), mark, read)
    return _CLAIMS[key]


async def release_claims(conn: AsyncConnection) -> int:
    """Give back every claimed message (one process on SQLite, starting up: whatever it
    had claimed when it stopped was not marked, so it is sent again)."""
    result = await conn.execute(
        update(outbox_t)
        .where(outbox_t.c.status == "sending")
        .values(status="pending", claimed_at=None)
    )
    return int(result.rowcount or 0)


async def mark_sent(
    conn: AsyncConnection, *, outbox_id: int, external_id: str | None, now: dt.datetime
) -> None:
    await conn.execute(_MARK_SENT, {"outbox_id": outbox_id, "external_id": external_id, "now": now})


_MARK_SENT = (
    update(outbox_t)
    .where(outbox_t.c.id == bindparam("outbox_id"))
    .values(
        status="sent",
        external_id=bindparam("external_id"),
        sent_at=bindparam("now", type_=UTCDateTime()),
        error=None,
    )
)


async def mark_retry(
    conn: AsyncConnection,
    *,
    outbox_id: int,
    error: str,
    next_attempt_at: dt.datetime,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Try again at `next_attempt_at`; `payload` replaces the message (what is left of it)."""
    values: dict[str, Any] = {
        "status": "pending",
        "error": error,
        "next_attempt_at": next_attempt_at,
        "claimed_at": None,
    }
    if payload is not None:
        values["payload"] = dict(payload)
    await conn.execute(update(outbox_t).where(outbox_t.c.id == outbox_id).values(**values))


async def mark_failed(
    conn: AsyncConnection, *, outbox_id: int, error: str, status: str = "failed"
) -> None:
    """Give up on a message: 'failed' (with the reason) or 'skipped' (not to be sent)."""
    await conn.execute(
        update(outbox_t).where(outbox_t.c.id == outbox_id).values(status=status, error=error)
    )


async def mark_unreachable(conn: AsyncConnection, *, contact_id: int) -> None:
    await conn.execute(
        update(contacts_t).where(contacts_t.c.id == contact_id).values(unreachable=True)
    )


# --- audit and system state ------------------------------------------------------------


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


async def get_value(conn: AsyncConnection, *, key: str) -> Any:
    return (await conn.execute(select(state_t.c.value).where(state_t.c.key == key))).scalar()


_SET_VALUE = upsert(
    "INSERT INTO system_state (key, value) VALUES (:key, :value) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    value=JSON(),
)


async def set_value(conn: AsyncConnection, *, key: str, value: Any) -> None:
    await conn.execute(_SET_VALUE, {"key": key, "value": value})


# --- delivery status, opt-out and documents (WhatsApp, and any channel that needs them) -

# How far a message has come; a late callback never moves a row back (Twilio may post
# "sent" after "delivered"). Failures end the story.
DELIVERY_RANK = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
DELIVERY_FAILED = ("undelivered", "failed")


async def outbox_by_external_id(conn: AsyncConnection, *, external_id: str) -> Row[Any] | None:
    """The outbox row a channel's message id belongs to (a split message has several ids)."""
    columns = (
        outbox_t.c.id,
        outbox_t.c.contact_id,
        outbox_t.c.kind,
        outbox_t.c.status,
        outbox_t.c.attempts,
        outbox_t.c.payload,
        outbox_t.c.external_id,
        outbox_t.c.delivery_status,
        contacts_t.c.address,
    )
    joined = outbox_t.join(contacts_t, contacts_t.c.id == outbox_t.c.contact_id)
    row = (
        await conn.execute(
            select(*columns).select_from(joined).where(outbox_t.c.external_id == external_id)
        )
    ).first()
    if row is not None:
        return row
    like = or_(
        outbox_t.c.external_id.like(f"{external_id},%"),
        outbox_t.c.external_id.like(f"%,{external_id}"),
        outbox_t.c.external_id.like(f"%,{external_id},%"),
    )
    return (await conn.execute(select(*columns).select_from(joined).where(like).limit(1))).first()


async def record_delivery(
    conn: AsyncConnection,
    *,
    outbox_id: int,
    delivery_status: str | None,
    at: dt.datetime,
    error_code: str | None = None,
    status: str | None = None,
    error: str | None = None,
    next_attempt_at: dt.datetime | None = None,
) -> None:
    """What the channel reported later about a sent message; `status` moves the row on
    (back to 'pending' at `next_attempt_at` for a retry, or 'failed', 'held', 'skipped')."""
    values: dict[str, Any] = {"delivery_status": delivery_status, "delivery_at": at}
    if error_code is not None:
        values["error_code"] = error_code[:16]
    if status is not None:
        values["status"] = status
    if error is not None:
        values["error"] = error[:500]
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
        values["claimed_at"] = None
    await conn.execute(update(outbox_t).where(outbox_t.c.id == outbox_id).values(**values))


async def set_opted_out(conn: AsyncConnection, *, contact_id: int, opted_out: bool) -> None:
    """The person asked for no more messages (or for them again)."""
    await conn.execute(
        update(contacts_t).where(contacts_t.c.id == contact_id).values(opted_out=opted_out)
    )


async def contact_by_address(
    conn: AsyncConnection, *, channel: str, address: str
) -> Row[Any] | None:
    stmt = select(contacts_t).where(
        contacts_t.c.channel == channel, contacts_t.c.address == address
    )
    return (await conn.execute(stmt)).first()


async def add_contact(
    conn: AsyncConnection,
    *,
    person_id: int,
    channel: str,
    address: str,
    now: dt.datetime,
    display_name: str | None = None,
) -> int:
    """Link one more channel address to a person (a facilitator's WhatsApp number)."""
    result = await conn.execute(
        insert(contacts_t)
        .values(
            channel=channel,
            address=address,
            person_id=person_id,
            display_name=display_name,
            opted_out=False,
            unreachable=False,
            created_at=now,
        )
        .returning(contacts_t.c.id)
    )
    return int(result.scalar_one())


async def inbound_seen(conn: AsyncConnection, *, channel: str, external_id: str) -> bool:
    """Whether this message was handled already (to skip work before the dispatcher)."""
    stmt = select(inbound_t.c.id).where(
        inbound_t.c.channel == channel, inbound_t.c.external_id == external_id
    )
    return (await conn.execute(stmt)).first() is not None


async def create_document(
    conn: AsyncConnection,
    *,
    token: str,
    filename: str,
    content_type: str,
    now: dt.datetime,
    person_id: int | None = None,
    data: bytes | None = None,
    ref: str | None = None,
    expires_at: dt.datetime | None = None,
) -> int:
    result = await conn.execute(
        insert(documents_t)
        .values(
            token=token,
            person_id=person_id,
            filename=filename[:200],
            content_type=content_type[:100],
            data=data,
            ref=ref[:500] if ref else None,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(documents_t.c.id)
    )
    return int(result.scalar_one())


async def document_by_token(
    conn: AsyncConnection, *, token: str, now: dt.datetime | None = None
) -> Row[Any] | None:
    """The document with this token; with `now`, only while it has not expired."""
    stmt = select(documents_t).where(documents_t.c.token == token)
    if now is not None:
        stmt = stmt.where(or_(documents_t.c.expires_at.is_(None), documents_t.c.expires_at > now))
    return (await conn.execute(stmt)).first()


async def document_by_ref(conn: AsyncConnection, *, ref: str) -> Row[Any] | None:
    """A received file by where it came from (a redelivered webhook stores it once)."""
    stmt = select(documents_t.c.id, documents_t.c.token).where(documents_t.c.ref == ref[:500])
    return (await conn.execute(stmt.limit(1))).first()


async def claim_documents(conn: AsyncConnection, *, tokens: Sequence[str], person_id: int) -> int:
    """Give received files without an owner to the person who sent them."""
    if not tokens:
        return 0
    result = await conn.execute(
        update(documents_t)
        .where(documents_t.c.token.in_(list(tokens)), documents_t.c.person_id.is_(None))
        .values(person_id=person_id)
    )
    return int(result.rowcount or 0)


async def undelivered(
    conn: AsyncConnection, *, cohort_id: int, since: dt.datetime
) -> Sequence[Row[Any]]:
    """The cohort's participants whose messages since `since` could not be delivered:
    held (no template outside WhatsApp's window), failed, undelivered, or skipped
    (opted out); what a facilitator needs to reach them another way."""
    stmt = (
        select(
            people_t.c.name,
            contacts_t.c.channel,
            contacts_t.c.address,
            contacts_t.c.opted_out,
            outbox_t.c.kind,
            outbox_t.c.status,
            outbox_t.c.delivery_status,
            outbox_t.c.error_code,
            outbox_t.c.error,
            outbox_t.c.created_at,
        )
        .select_from(
            outbox_t.join(contacts_t, contacts_t.c.id == outbox_t.c.contact_id)
            .join(people_t, people_t.c.id == contacts_t.c.person_id)
            .join(
                memberships_t,
                and_(
                    memberships_t.c.person_id == people_t.c.id,
                    memberships_t.c.role == PARTICIPANT,
                ),
            )
        )
        .where(
            memberships_t.c.cohort_id == cohort_id,
            outbox_t.c.created_at >= since,
            or_(
                outbox_t.c.status.in_(("held", "failed", "skipped")),
                outbox_t.c.delivery_status.in_(DELIVERY_FAILED),
            ),
        )
        .order_by(outbox_t.c.id)
    )
    return (await conn.execute(stmt)).all()


async def save_document(
    conn: AsyncConnection,
    *,
    person_id: int | None,
    filename: str,
    content_type: str,
    now: dt.datetime,
    ref: str | None = None,
    data: bytes | None = None,
    expires_at: dt.datetime | None = None,
) -> str:
    """Keep a file (its bytes, or a channel's reference to it); returns its token."""
    token = secrets.token_urlsafe(24)
    await conn.execute(
        insert(documents_t).values(
            token=token,
            person_id=person_id,
            filename=filename,
            content_type=content_type,
            data=data,
            ref=ref,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


async def get_document(conn: AsyncConnection, *, token: str) -> Row[Any] | None:
    return (await conn.execute(select(documents_t).where(documents_t.c.token == token))).first()


async def list_documents(conn: AsyncConnection, *, person_id: int) -> Sequence[Row[Any]]:
    stmt = (
        select(documents_t).where(documents_t.c.person_id == person_id).order_by(documents_t.c.id)
    )
    return (await conn.execute(stmt)).all()


async def menu_people(
    conn: AsyncConnection, *, channel: str, default_language: str
) -> dict[str, tuple[str, frozenset[str]]]:
    """Contacts on `channel` whose command menu differs from everyone's: staff, and people
    who chose another language. address -> (language, their staff roles)."""
    stmt = (
        select(contacts_t.c.address, people_t.c.language, memberships_t.c.role)
        .select_from(
            contacts_t.join(people_t, people_t.c.id == contacts_t.c.person_id).outerjoin(
                memberships_t,
                and_(
                    memberships_t.c.person_id == people_t.c.id,
                    memberships_t.c.role.in_(STAFF_ROLES),
                ),
            )
        )
        .where(
            contacts_t.c.channel == channel,
            or_(people_t.c.language != default_language, memberships_t.c.role.is_not(None)),
        )
    )
    found: dict[str, tuple[str, set[str]]] = {}
    for row in (await conn.execute(stmt)).all():
        roles = found.setdefault(row.address, (row.language, set()))[1]
        if row.role:
            roles.add(row.role)
    return {address: (lang, frozenset(roles)) for address, (lang, roles) in found.items()}
