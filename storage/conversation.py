"""A person's conversation state: their one flow session, their answers (with the
history of changed ones) and the weeks they opened and finished.

Writes that change what /progres counts work the cohort's tally out again in the same
transaction (storage/tallies.py). The progress queries staff read are in
storage/progress_repo.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, bindparam, delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tallies
from storage.models import UTCDateTime
from storage.sql import upsert
from storage.tables import answers_t, progress_t, sessions_t

# --- flow sessions --------------------------------------------------------------------


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


# --- answers --------------------------------------------------------------------------


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


# --- progress -------------------------------------------------------------------------


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
