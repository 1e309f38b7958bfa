"""The inbound log (each channel message is handled once) and the lock that holds one
sender's messages to one turn at a time.

Invariant 3 of DESIGN.md: a redelivered Telegram update or Twilio webhook (the same
channel and external id) finds its row in `inbound_log` and is not processed again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import UTCDateTime
from storage.sql import upsert
from storage.tables import inbound_t

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


async def inbound_seen(conn: AsyncConnection, *, channel: str, external_id: str) -> bool:
    """Whether this message was handled already (to skip work before the dispatcher)."""
    stmt = select(inbound_t.c.id).where(
        inbound_t.c.channel == channel, inbound_t.c.external_id == external_id
    )
    return (await conn.execute(stmt)).first() is not None
