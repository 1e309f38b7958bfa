"""Many rows in one statement, straight through the database driver.

A scheduler tick may queue tens of thousands of messages and open as many sessions in
a few transactions. Through SQLAlchemy's executemany each row costs its parameter
processing (a JSON dump, a datetime conversion, a dictionary per row), more than
the database's own work. These helpers take plain tuples, with JSON already
serialised, and hand them to the driver inside the caller's transaction:

- PostgreSQL (asyncpg): one `INSERT … SELECT FROM unnest($1::…[], …)` per call, a
  single round trip whatever the number of rows (and ON CONFLICT works, unlike COPY);
- SQLite (the inline sqlite3 connection of storage/sqlite_inline.py): `executemany`
  of a prepared statement;
- anything else: SQLAlchemy's executemany, the slow and sure way.

Times are converted as SQLAlchemy would store them (`UTCDateTime`), so what these
write reads back, compares and sorts exactly like what the repositories write.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import UTCDateTime
from storage.sqlite_inline import InlineConnection

# Columns of one outbox row, in order: what the caller gives for each message.
OUTBOX_COLUMNS = ("contact_id", "payload", "priority", "dedupe_key", "kind")
SESSION_COLUMNS = ("person_id", "cohort_id", "flow", "step", "state")

_PG_OUTBOX = (
    "INSERT INTO outbox (contact_id, payload, priority, dedupe_key, kind, status, attempts, "
    "next_attempt_at, created_at) "
    "SELECT c, p::json, pr, d, k, 'pending', 0, $6, $6 "
    "FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[]) AS t(c, p, pr, d, k)"
)
_SQLITE_OUTBOX = (
    "INSERT INTO outbox (contact_id, payload, priority, dedupe_key, kind, status, attempts, "
    "next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)"
)
_PG_SESSIONS = (
    "INSERT INTO flow_sessions (person_id, cohort_id, flow, step, state, updated_at, "
    "nudge_stage) SELECT p, c, f, s, st::json, $6, 0 "
    "FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) "
    "AS t(p, c, f, s, st) ON CONFLICT (person_id) DO NOTHING"
)
_SQLITE_SESSIONS = (
    "INSERT INTO flow_sessions (person_id, cohort_id, flow, step, state, updated_at, "
    "nudge_stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT (person_id) DO NOTHING"
)
_ANY_OUTBOX = text(
    "INSERT INTO outbox (contact_id, payload, priority, dedupe_key, kind, status, attempts, "
    "next_attempt_at, created_at) VALUES (:contact_id, :payload, :priority, :dedupe_key, "
    ":kind, 'pending', 0, :now, :now)"
).bindparams(bindparam("now", type_=UTCDateTime()))
_ANY_SESSIONS = text(
    "INSERT INTO flow_sessions (person_id, cohort_id, flow, step, state, updated_at, "
    "nudge_stage) VALUES (:person_id, :cohort_id, :flow, :step, :state, :now, 0) "
    "ON CONFLICT (person_id) DO NOTHING"
).bindparams(bindparam("now", type_=UTCDateTime()))


async def insert_outbox(
    conn: AsyncConnection, *, rows: Sequence[tuple[Any, ...]], now: dt.datetime
) -> None:
    """Queue messages, due now: each row is (contact_id, payload as a JSON string,
    priority, dedupe_key, kind). A dedupe key queued before fails the transaction,
    as `repo.enqueue` does."""
    if rows:
        await _insert(conn, rows, now, _PG_OUTBOX, _SQLITE_OUTBOX, _ANY_OUTBOX, OUTBOX_COLUMNS)


async def insert_sessions(
    conn: AsyncConnection, *, rows: Sequence[tuple[Any, ...]], now: dt.datetime
) -> None:
    """Open sessions, updated now at stage 0: each row is (person_id, cohort_id, flow,
    step, state as a JSON string). A person who has a session already keeps it."""
    if rows:
        await _insert(
            conn, rows, now, _PG_SESSIONS, _SQLITE_SESSIONS, _ANY_SESSIONS, SESSION_COLUMNS
        )


async def _insert(
    conn: AsyncConnection,
    rows: Sequence[tuple[Any, ...]],
    now: dt.datetime,
    postgres: str,
    sqlite: str,
    generic: Any,
    columns: tuple[str, ...],
) -> None:
    stamp = _stored_time(conn, now)
    driver = await _driver(conn)
    if conn.dialect.name == "postgresql" and driver is not None:
        arrays = [list(column) for column in zip(*rows, strict=True)]
        await driver.execute(postgres, *arrays, stamp)
    elif isinstance(driver, sqlite3.Connection):
        driver.executemany(sqlite, [(*row, stamp) for row in rows])
    else:
        await conn.execute(
            generic, [{**dict(zip(columns, row, strict=True)), "now": now} for row in rows]
        )


async def fetch(
    conn: AsyncConnection,
    *,
    sqlite: tuple[str, Sequence[Any]],
    postgres: tuple[str, Sequence[Any]],
) -> Sequence[Sequence[Any]]:
    """The rows of a large read, as the driver gives them (tuples, asyncpg Records),
    without SQLAlchemy's Row for each: `sqlite` is the statement with `?` parameters,
    `postgres` the same with `$n` ones (arrays allowed), each with its values."""
    driver = await _driver(conn)
    if conn.dialect.name == "postgresql" and driver is not None:
        sql, params = postgres
        return list(await driver.fetch(sql, *params))
    sql, params = sqlite
    if isinstance(driver, sqlite3.Connection):
        return driver.execute(sql, params).fetchall()
    return [tuple(row) for row in (await conn.exec_driver_sql(sql, tuple(params))).all()]


async def _driver(conn: AsyncConnection) -> Any:
    """The driver's own connection, inside the transaction SQLAlchemy has begun; None
    when it is not one these helpers know."""
    raw = (await conn.get_raw_connection()).driver_connection
    if raw is None:
        return None
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "asyncpg":
        if not raw.is_in_transaction():  # SQLAlchemy begins it on the first statement
            await conn.exec_driver_sql("SELECT 1")
        return raw
    if isinstance(raw, InlineConnection):
        return raw.sqlite
    return None


def _stored_time(conn: AsyncConnection, when: dt.datetime) -> Any:
    """`when` as SQLAlchemy hands it to this database's driver."""
    process = UTCDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(when) if process is not None else when


__all__ = ["OUTBOX_COLUMNS", "SESSION_COLUMNS", "fetch", "insert_outbox", "insert_sessions"]
