"""Storage for facilitator broadcasts (/siaran): the broadcast rows, their outbox rows,
the contacts they go to, and the delivery counts /siaran status shows.

A broadcast row is written once per confirmation (`confirm_key` is unique: a second tap
on "send" finds it and queues nothing). A scheduled one is claimed by the scheduler with
one UPDATE ... WHERE status = 'scheduled' (and SKIP LOCKED on PostgreSQL), in the same
transaction as its outbox rows, so it is queued exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, bindparam, case, func, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import UTCDateTime
from storage.outbox import PRIORITY_BROADCAST
from storage.sql import upsert
from storage.tables import broadcasts_t, contacts_t, outbox_t, people_t

SCHEDULED, QUEUED, CANCELLED = "scheduled", "queued", "cancelled"

_CREATE = text(
    "INSERT INTO broadcasts (author_id, cohort_ids, audience, text, media_token, media_channel, "
    "status, scheduled_at, recipients, not_sent, confirm_key, created_at, queued_at) VALUES "
    "(:author_id, :cohort_ids, :audience, :text, :media_token, :media_channel, :status, "
    ":scheduled_at, 0, 0, "
    ":confirm_key, :now, NULL) ON CONFLICT (confirm_key) DO NOTHING RETURNING id"
).bindparams(
    bindparam("cohort_ids", type_=JSON()),
    bindparam("scheduled_at", type_=UTCDateTime()),
    bindparam("now", type_=UTCDateTime()),
)


async def create(
    conn: AsyncConnection,
    *,
    author_id: int,
    cohort_ids: Sequence[int],
    audience: str,
    text: str,
    media_token: str | None,
    status: str,
    media_channel: str | None = None,
    scheduled_at: dt.datetime | None,
    confirm_key: str,
    now: dt.datetime,
) -> int | None:
    """A new broadcast's id; None when this confirmation was already taken (a double tap)."""
    row = (
        await conn.execute(
            _CREATE,
            {
                "author_id": author_id,
                "cohort_ids": list(cohort_ids),
                "audience": audience,
                "text": text,
                "media_token": media_token,
                "media_channel": media_channel,
                "status": status,
                "scheduled_at": scheduled_at,
                "confirm_key": confirm_key[:64],
                "now": now,
            },
        )
    ).first()
    return int(row[0]) if row is not None else None


async def mark_queued(
    conn: AsyncConnection, *, broadcast_id: int, recipients: int, not_sent: int, now: dt.datetime
) -> None:
    await conn.execute(
        update(broadcasts_t)
        .where(broadcasts_t.c.id == broadcast_id)
        .values(status=QUEUED, recipients=recipients, not_sent=not_sent, queued_at=now)
    )


async def claim_due(conn: AsyncConnection, *, now: dt.datetime, limit: int) -> Sequence[Row[Any]]:
    """Scheduled broadcasts whose time has come, now marked queued: each is returned to
    exactly one caller (the status test in the UPDATE, and SKIP LOCKED on PostgreSQL)."""
    b = broadcasts_t
    due = (
        select(b.c.id)
        .where(b.c.status == SCHEDULED, b.c.scheduled_at <= now)
        .order_by(b.c.scheduled_at, b.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [r.id for r in (await conn.execute(due)).all()]
    if not ids:
        return []
    claimed = await conn.execute(
        update(b)
        .where(b.c.id.in_(ids), b.c.status == SCHEDULED)
        .values(status=QUEUED, queued_at=now)
        .returning(*b.c)
    )
    return sorted(claimed.all(), key=lambda r: r.id)


async def cancel(conn: AsyncConnection, *, broadcast_id: int, author_id: int) -> bool:
    """Cancel the author's scheduled broadcast; False when it is not theirs or not waiting."""
    result = await conn.execute(
        update(broadcasts_t)
        .where(
            broadcasts_t.c.id == broadcast_id,
            broadcasts_t.c.author_id == author_id,
            broadcasts_t.c.status == SCHEDULED,
        )
        .values(status=CANCELLED)
        .returning(broadcasts_t.c.id)
    )
    return result.first() is not None


async def get(conn: AsyncConnection, *, broadcast_id: int) -> Row[Any] | None:
    return (
        await conn.execute(select(broadcasts_t).where(broadcasts_t.c.id == broadcast_id))
    ).first()


async def recent(
    conn: AsyncConnection, *, author_id: int, limit: int = 5, broadcast_id: int | None = None
) -> Sequence[Row[Any]]:
    """The author's latest broadcasts, newest first (or the one numbered `broadcast_id`)."""
    stmt = select(broadcasts_t).where(broadcasts_t.c.author_id == author_id)
    if broadcast_id is not None:
        stmt = stmt.where(broadcasts_t.c.id == broadcast_id)
    return (await conn.execute(stmt.order_by(broadcasts_t.c.id.desc()).limit(limit))).all()


# --- who receives it --------------------------------------------------------------------


async def contacts_of(conn: AsyncConnection, *, person_ids: Sequence[int]) -> Sequence[Row[Any]]:
    """Every contact of these people (channel, last message, opted out, unreachable)."""
    if not person_ids:
        return []
    stmt = select(
        contacts_t.c.id,
        contacts_t.c.person_id,
        contacts_t.c.channel,
        contacts_t.c.last_inbound_at,
        contacts_t.c.opted_out,
        contacts_t.c.unreachable,
    ).where(contacts_t.c.person_id.in_(sorted(set(person_ids))))
    return (await conn.execute(stmt.order_by(contacts_t.c.person_id, contacts_t.c.id))).all()


_INSERT = upsert(
    "INSERT INTO outbox (contact_id, payload, priority, dedupe_key, kind, status, attempts, "
    "next_attempt_at, created_at, broadcast_id) VALUES (:contact_id, :payload, :priority, "
    ":dedupe_key, 'broadcast', 'pending', 0, :not_before, :now, :broadcast_id) "
    "ON CONFLICT (dedupe_key) DO NOTHING",
    payload=JSON(),
    not_before=UTCDateTime(),
    now=UTCDateTime(),
)


async def enqueue(
    conn: AsyncConnection,
    *,
    broadcast_id: int,
    messages: Sequence[tuple[int, Mapping[str, Any], dt.datetime]],
    now: dt.datetime,
) -> None:
    """Queue (contact id, payload, not before) for a broadcast, one per contact at most."""
    rows = [
        {
            "contact_id": contact_id,
            "payload": dict(payload),
            "priority": PRIORITY_BROADCAST,
            "dedupe_key": f"bc:{broadcast_id}:{contact_id}",
            "broadcast_id": broadcast_id,
            "not_before": max(not_before, now),
            "now": now,
        }
        for contact_id, payload, not_before in messages
    ]
    if rows:
        await conn.execute(_INSERT, rows)


# --- how it went --------------------------------------------------------------------------

OUTCOMES = ("pending", "sent", "delivered", "read", "failed", "opted_out", "held")


async def outcomes(
    conn: AsyncConnection, *, broadcast_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Per broadcast, how many of its messages are pending, sent, delivered, read, failed,
    skipped (opted out or unreachable by the time they went) or held: one grouped query."""
    result: dict[int, dict[str, int]] = {b: dict.fromkeys(OUTCOMES, 0) for b in broadcast_ids}
    if not broadcast_ids:
        return result
    o = outbox_t
    stmt = (
        select(o.c.broadcast_id, o.c.status, o.c.delivery_status, func.count().label("n"))
        .where(o.c.broadcast_id.in_(list(broadcast_ids)))
        .group_by(o.c.broadcast_id, o.c.status, o.c.delivery_status)
    )
    for row in (await conn.execute(stmt)).all():
        counts, n = result[row.broadcast_id], int(row.n)
        if row.status in ("pending", "sending"):
            counts["pending"] += n
        elif row.status == "held":
            counts["held"] += n
        elif row.status == "skipped":
            counts["opted_out"] += n
        elif row.status == "failed" or row.delivery_status in ("undelivered", "failed"):
            counts["failed"] += n
        elif row.status == "sent":
            counts["sent"] += n
            if row.delivery_status in ("delivered", "read"):
                counts["delivered"] += n
            if row.delivery_status == "read":
                counts["read"] += n
    return result


async def failed_names(
    conn: AsyncConnection, *, broadcast_ids: Sequence[int]
) -> dict[int, list[str]]:
    """Per broadcast, the names of the people it failed to reach (one query)."""
    if not broadcast_ids:
        return {}
    o = outbox_t
    failed = case(
        (o.c.status == "failed", True),
        (o.c.delivery_status.in_(("undelivered", "failed")), True),
        else_=False,
    )
    stmt = (
        select(o.c.broadcast_id, people_t.c.name, contacts_t.c.display_name)
        .select_from(
            o.join(contacts_t, contacts_t.c.id == o.c.contact_id).join(
                people_t, people_t.c.id == contacts_t.c.person_id
            )
        )
        .where(o.c.broadcast_id.in_(list(broadcast_ids)), failed)
        .order_by(o.c.broadcast_id, people_t.c.name)
    )
    names: dict[int, list[str]] = {}
    for row in (await conn.execute(stmt)).all():
        names.setdefault(row.broadcast_id, []).append(row.name or row.display_name or "?")
    return names


__all__ = [
    "CANCELLED",
    "OUTCOMES",
    "QUEUED",
    "SCHEDULED",
    "broadcasts_t",
    "cancel",
    "claim_due",
    "contacts_of",
    "create",
    "enqueue",
    "failed_names",
    "get",
    "mark_queued",
    "outcomes",
    "recent",
]
