"""The outbox (invariant 4 of DESIGN.md): queueing messages in priority lanes, claiming
what is due, marking it sent, retried or failed, and what the channel reported later
about its delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, and_, bindparam, case, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import UTCDateTime
from storage.roles import PARTICIPANT
from storage.sql import upsert
from storage.tables import contacts_t, memberships_t, outbox_t, people_t

# --- queueing and claiming ------------------------------------------------------------

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
    claimed_at: dt.datetime | None = None,
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

    `now` decides what is due (the application's clock, simulated or not); `claimed_at`,
    the real time (bot/core/clock.py's SystemClock; `now` when not given), is what a
    claim is stamped with and how its staleness is judged: a simulated clock that stands
    still (the console) or jumps days (the simulator) must not decide whether a sender
    has died.
    """
    postgres = conn.dialect.name == "postgresql"
    give_up, walks, mark, read = _claim_statements(
        channels is not None, other_than is not None, postgres
    )
    real_now = claimed_at if claimed_at is not None else now
    params: dict[str, Any] = {
        "now": now,
        "claimed_at": real_now,
        "cutoff": real_now - stale_after,
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
    await conn.execute(mark, {"ids": ids, "claimed_at": real_now})
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
            claimed_at=bindparam("claimed_at", type_=UTCDateTime()),
            attempts=o.c.attempts + 1,
        )
    )
    read = (
        select(
            o.c.id,
            o.c.payload,
            o.c.attempts,
            o.c.priority,
            o.c.kind,
            o.c.created_at,
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


async def release_claims(conn: AsyncConnection, *, channels: Sequence[str] | None = None) -> int:
    """Give back every claimed message (one process on SQLite, starting up: whatever it
    had claimed when it stopped was not marked, so it is sent again); `channels` limits
    it to contacts on those channels (the console's: a console chat beside a running
    bot leaves the bot's claims alone)."""
    stmt = update(outbox_t).where(outbox_t.c.status == "sending")
    if channels is not None:
        on_channel = select(contacts_t.c.id).where(
            contacts_t.c.id == outbox_t.c.contact_id, contacts_t.c.channel.in_(list(channels))
        )
        stmt = stmt.where(on_channel.exists())
    result = await conn.execute(stmt.values(status="pending", claimed_at=None))
    return int(result.rowcount or 0)


# --- after a send ---------------------------------------------------------------------


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
    refund_attempt: bool = False,
) -> None:
    """Try again at `next_attempt_at`; `payload` replaces the message (what is left of it).

    `refund_attempt`: the channel refused for rate (a 429 and its retry_after), which
    is no failure of the message: the attempt its claim counted is given back, so that
    no number of refusals ever uses up a message's attempts."""
    values: dict[str, Any] = {
        "status": "pending",
        "error": error,
        "next_attempt_at": next_attempt_at,
        "claimed_at": None,
    }
    if refund_attempt:
        values["attempts"] = case(
            (outbox_t.c.attempts > 0, outbox_t.c.attempts - 1), else_=outbox_t.c.attempts
        )
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


# --- what the channel reported later --------------------------------------------------

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
