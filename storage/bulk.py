"""Many rows in one statement, straight through the database driver.

A scheduler tick may queue tens of thousands of messages and open as many sessions in
a few transactions. Through SQLAlchemy each row costs its parameter or result
processing (a JSON dump, a datetime conversion, a dictionary or a Row per row), more
than the database's own work. These helpers take plain tuples, with JSON already
serialised, and hand them to the driver inside the caller's transaction:

- PostgreSQL (asyncpg): one statement per call whatever the number of rows: COPY
  for the outbox, `INSERT … SELECT FROM unnest($1::…[], …)` where ON CONFLICT or
  RETURNING is needed;
- SQLite (the inline sqlite3 connection of storage/sqlite_inline.py): `executemany`
  of a prepared statement (through SQLAlchemy's driver-level call on any other
  SQLite connection).

Times are converted as SQLAlchemy would store them (`UTCDateTime`), so what these
write reads back, compares and sorts exactly like what the repositories write.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import UTCDateTime
from storage.sqlite_inline import InlineConnection

OUTBOX_COLUMNS = (  # what COPY fills in, in order: the row given, then the rest
    "contact_id",
    "payload",
    "priority",
    "dedupe_key",
    "kind",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)
_SQLITE_OUTBOX = (
    "INSERT INTO outbox (contact_id, payload, priority, dedupe_key, kind, status, attempts, "
    "next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)"
)
# The rows as one JSON array of arrays: asyncpg encodes a long text array element by
# element, several times slower than orjson writes the document.
_PG_SESSIONS = (
    "INSERT INTO flow_sessions (person_id, cohort_id, flow, step, state, updated_at, "
    "nudge_stage) SELECT (r->>0)::bigint, (r->>1)::bigint, r->>2, r->>3, (r->>4)::json, "
    "$2, 0 FROM json_array_elements($1::json) AS r ON CONFLICT (person_id) DO NOTHING"
)
_SQLITE_SESSIONS = (
    "INSERT INTO flow_sessions (person_id, cohort_id, flow, step, state, updated_at, "
    "nudge_stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT (person_id) DO NOTHING"
)


async def insert_outbox(
    conn: AsyncConnection, *, rows: Sequence[tuple[Any, ...]], now: dt.datetime
) -> None:
    """Queue messages, due now: each row is (contact_id, payload as a JSON string,
    priority, dedupe_key, kind). A dedupe key queued before fails the transaction,
    as `outbox.enqueue` does. On PostgreSQL through COPY."""
    if not rows:
        return
    stamp = stored_time(conn, now)
    driver = await _driver(conn)
    if _postgres(conn, driver):
        await driver.copy_records_to_table(
            "outbox",
            records=[(*row, "pending", 0, stamp, stamp) for row in rows],
            columns=OUTBOX_COLUMNS,
        )
        return
    await write(conn, sqlite=(_SQLITE_OUTBOX, [(*row, stamp) for row in rows]), postgres=None)


async def insert_sessions(
    conn: AsyncConnection, *, rows: Sequence[tuple[Any, ...]], now: dt.datetime
) -> None:
    """Open sessions, updated now at stage 0: each row is (person_id, cohort_id, flow,
    step, state as a JSON string). A person who has a session already keeps it."""
    if not rows:
        return
    stamp = stored_time(conn, now)
    rows = sorted(rows, key=lambda row: row[0])  # one lock order for concurrent ticks
    await write(
        conn,
        sqlite=(_SQLITE_SESSIONS, [(*row, stamp) for row in rows]),
        postgres=(_PG_SESSIONS, [orjson.dumps(rows).decode(), stamp]),
    )


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as `width` columns: the arrays an unnest() statement takes."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


async def write(
    conn: AsyncConnection,
    *,
    sqlite: tuple[str, Sequence[Sequence[Any]]],
    postgres: tuple[str, Sequence[Any]] | None,
) -> Sequence[Sequence[Any]]:
    """Write many rows in one go: on SQLite `executemany` of `sqlite`'s statement (`?`
    parameters) over its rows; on PostgreSQL `postgres`'s statement (`$n` parameters,
    arrays for unnest) once, returning the rows it returns (RETURNING)."""
    driver = await _driver(conn)
    if _postgres(conn, driver):
        if postgres is None:
            raise ValueError("no statement for PostgreSQL")
        sql, params = postgres
        return list(await driver.fetch(sql, *params))
    sql, rows = sqlite
    if isinstance(driver, sqlite3.Connection):
        driver.executemany(sql, rows)
    else:
        await conn.exec_driver_sql(sql, [tuple(row) for row in rows])
    return []


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
    if _postgres(conn, driver):
        sql, params = postgres
        return list(await driver.fetch(sql, *params))
    sql, params = sqlite
    if isinstance(driver, sqlite3.Connection):
        return driver.execute(sql, params).fetchall()
    return [tuple(row) for row in (await conn.exec_driver_sql(sql, tuple(params))).all()]


def _postgres(conn: AsyncConnection, driver: Any) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    if driver is None:  # make_engine runs PostgreSQL on asyncpg only
        raise NotImplementedError(f"bulk writes need asyncpg, not {conn.dialect.driver}")
    return True


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


def stored_time(conn: AsyncConnection, when: dt.datetime | None) -> Any:
    """`when` as SQLAlchemy hands it to this database's driver."""
    if when is None:
        return None
    process = _TIME_PROCESSORS.get(conn.dialect.name)
    if process is None:
        process = UTCDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
        process = _TIME_PROCESSORS[conn.dialect.name] = process or (lambda value: value)
    return process(when)


_TIME_PROCESSORS: dict[str, Any] = {}  # dialect name → UTCDateTime's bind processor


__all__ = [
    "OUTBOX_COLUMNS",
    "columns",
    "fetch",
    "insert_outbox",
    "insert_sessions",
    "stored_time",
    "write",
]
