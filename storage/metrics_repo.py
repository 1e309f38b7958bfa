"""The figures /metrics reads from the database when it is scraped (bot/core/metrics.py).

A scrape comes every 15-60 s while messages are handled, and on SQLite a query runs on
the event loop's thread: each query here stays on an index or a small table. The
outbox is counted by status except 'sent' (the big one: that count is the sender's
counter instead), along the claim index whose first column is the status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.roles import PARTICIPANT
from storage.tables import cohorts_t, contacts_t, memberships_t, outbox_t, tallies_t
from storage.tallies import WEEKS

# Every outbox status but 'sent' (storage/models.py's Outbox.status).
COUNTED = ("pending", "sending", "held", "failed", "skipped")
WAITING = ("pending", "sending")


@dataclass
class Figures:
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, channel)
    oldest_pending_s: float = 0.0
    cohorts: int = 0
    participants: int = 0
    finished: list[int] = field(default_factory=lambda: [0] * WEEKS)  # per week 1..16


_OUTBOX = (
    select(outbox_t.c.status, contacts_t.c.channel, func.count().label("n"))
    .join(contacts_t, contacts_t.c.id == outbox_t.c.contact_id)
    .where(outbox_t.c.status.in_(COUNTED))
    .group_by(outbox_t.c.status, contacts_t.c.channel)
)
_COHORTS = select(func.count()).select_from(cohorts_t)
_PARTICIPANTS = (
    select(func.count()).select_from(memberships_t).where(memberships_t.c.role == PARTICIPANT)
)
_FINISHED = select(tallies_t.c.finished)


async def read(conn: AsyncConnection, *, now: dt.datetime) -> Figures:
    figures = Figures()
    for row in await conn.execute(_OUTBOX):
        figures.outbox[(row.status, row.channel)] = int(row.n)
    # The oldest message that is due now and still waits: queued at created_at (a
    # message held back until later, `not_before`, is not late before its time).
    oldest = (
        await conn.execute(
            select(func.min(outbox_t.c.created_at)).where(
                and_(outbox_t.c.status.in_(WAITING), outbox_t.c.next_attempt_at <= now)
            )
        )
    ).scalar_one()
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        figures.oldest_pending_s = max((now - oldest).total_seconds(), 0.0)
    figures.cohorts = int((await conn.execute(_COHORTS)).scalar_one())
    figures.participants = int((await conn.execute(_PARTICIPANTS)).scalar_one())
    for row in await conn.execute(_FINISHED):
        for week, n in enumerate((row.finished or [])[:WEEKS]):
            figures.finished[week] += int(n)
    return figures
