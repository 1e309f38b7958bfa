"""SQLite for the async engine without a thread hop per call.

aiosqlite runs every call on its own thread; SQLAlchemy's adapter makes about four
such calls a statement (cursor, execute, fetch, close), ~35 µs each on this machine,
while SQLite itself answers in a few µs. This module gives SQLAlchemy's aiosqlite
dialect a connection with aiosqlite's interface whose calls run sqlite3 directly on
the event loop's thread: a transaction of the dispatcher costs a fraction of a
millisecond instead of several.

The trade: a call blocks the loop while SQLite works. That is microseconds, except
when another process holds the write lock; then the caller waits up to the busy
timeout. The embedded default is one bot process, so that wait is rare (an admin
command running beside the bot); deployments with several workers use PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        self._cursor.execute(sql, parameters if parameters is not None else ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses for one setting."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller
            future.set_exception(error)


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._tx = _RunNow()

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (storage/bulk.py writes through it)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = await self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def creator(database: str, timeout_s: float) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine opening `database`."""

    async def connect() -> InlineConnection:
        # The pool may close a connection from another thread at exit.
        connection = sqlite3.connect(database, timeout=timeout_s, check_same_thread=False)
        return InlineConnection(connection)

    return connect
