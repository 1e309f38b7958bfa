"""Retention: pruning what has served its purpose, in small transactions.

Each rule is a step of `STEPS` (run in order by `run`); each works in batches of at most
`batch` rows per transaction, so that no transaction holds the outbox (on SQLite: the
database) for long while the sender and the dispatcher go on. What each rule keeps:

- `inbound_log`: an entry exists to refuse a redelivered message (invariant 3); a
  channel redelivers within a day, so after `Periods.inbound` it goes.
- `outbox`: a message that went (or finally failed or was skipped) keeps its row, with
  its status, kind, broadcast and delivery report, so that /siaran's counts stay right;
  after `Periods.outbox` its text is replaced by `{"pruned": "<date>"}`. A row still
  waiting (pending, sending, held) keeps its text (and, the walk being past it, keeps
  it should it go much later).
- `documents`: a document the bot published under an expiring link (a business plan,
  a chart, a copy of someone's data, a broadcast's photo) goes once its link expired.
  A received photo is kept unpublished (its `expires_at` is its `created_at`): it
  belongs to a check-in or a broadcast and is kept while they are, so it is not pruned.
- `nudges`: a nudge row only says "this happened" so that it never happens twice (its
  unique key). The programme's cohort-wide events (unlock, meeting reminders, digests)
  are never looked for again past the scheduler's late window, so their rows go after
  `Periods.nudges`. A participant's silence-ladder keys (reminders, alerts) can come
  up again as long as they are a participant (/ubah reopens a week, whose silence
  climbs the ladder): without the key the reminder would be queued again (and, its
  outbox row being there, the outbox's unique dedupe key would fail the scheduler's
  chunk), so they stay, until the person is erased.
- `audit_log`: entries older than `Periods.audit`.
- `ended_cohorts` (off unless `Periods.ended_cohort` is set): each participant of a
  cohort whose sixteen weeks ended longer ago than that is erased as /hapus erases
  (storage/personal.py), one person per transaction; the cohort's counts stay in its
  check-ins, and its figures are worked out again from who is left.

Rows are found by id ranges where a table has no index on its time: ids are handed out
in time order, so the last id older than the cut is found by a binary search on the
primary key (`_last_id_before`); a row or two near the cut may wait a day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import audit_log, personal, system_state
from storage.roles import INVITED, PARTICIPANT
from storage.tables import (
    audit_t,
    cohorts_t,
    documents_t,
    inbound_t,
    memberships_t,
    nudges_t,
    outbox_t,
)

BATCH = 200  # rows per transaction (bench/retention.py: a few ms each, p99 under 30 ms)
PRUNED = "pruned"  # a pruned outbox payload: {"pruned": "2027-03-01"}
FINISHED = ("sent", "failed", "skipped")  # outbox rows that will never go (again)
OUTBOX_MARK = "retention.outbox_pruned_to"  # the last outbox id whose text was looked at


def is_pruned(payload: Mapping[str, Any]) -> bool:
    """Whether an outbox payload's text was pruned (nothing is left to send)."""
    return PRUNED in payload


@dataclass(frozen=True)
class Periods:
    """How long each kind of record is kept once it has served its purpose."""

    inbound: dt.timedelta = dt.timedelta(days=7)
    outbox: dt.timedelta = dt.timedelta(days=90)
    nudges: dt.timedelta = dt.timedelta(days=90)
    audit: dt.timedelta = dt.timedelta(days=730)
    # The scheduler looks back this far for events it missed (flows/pacing.py's late
    # window and a day): a cohort-wide nudge younger than that is always kept.
    scheduler_lookback: dt.timedelta = dt.timedelta(days=2)
    # Participants of a cohort that ended this long ago are erased (None: never).
    ended_cohort: dt.timedelta | None = None


@dataclass
class StepReport:
    """What one step pruned, in how many transactions, and the longest of them."""

    rows: int = 0
    batches: int = 0
    longest_s: float = 0.0
    touches_outbox: bool = False
    seconds: float = 0.0
    durations: list[float] = field(default_factory=list)

    def timed(self, seconds: float, rows: int) -> None:
        self.rows += rows
        self.batches += 1
        self.longest_s = max(self.longest_s, seconds)
        self.durations.append(seconds)


@dataclass
class Report:
    steps: dict[str, StepReport] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.steps.values())

    @property
    def longest_s(self) -> float:
        return max((s.longest_s for s in self.steps.values()), default=0.0)

    @property
    def longest_outbox_s(self) -> float:
        return max((s.longest_s for s in self.steps.values() if s.touches_outbox), default=0.0)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps.values())

    def counts(self) -> dict[str, int]:
        return {name: s.rows for name, s in self.steps.items()}


StepRun = Callable[[AsyncEngine, dt.datetime, Periods, int], Awaitable[StepReport]]


@dataclass(frozen=True)
class Step:
    name: str
    run: StepRun


async def _batch(
    db: AsyncEngine, report: StepReport, work: Callable[[AsyncConnection], Awaitable[int]]
) -> int:
    """One transaction of a step, timed from its BEGIN to its COMMIT."""
    started = time.perf_counter()
    async with db.begin() as conn:
        rows = await work(conn)
    report.timed(time.perf_counter() - started, rows)
    await asyncio.sleep(0)  # let the turns and the sender in between batches
    return rows


async def _last_id_before(
    db: AsyncEngine, report: StepReport, table: Table, column: Any, before: dt.datetime
) -> int | None:
    """The last id whose `column` is before `before`, by a binary search on the ids.

    Assumes `column` grows with the id (a row's creation time); None when even the
    first row is not old enough. Each probe is one primary-key lookup.
    """
    ident = table.c.id

    async def probe(at: int) -> tuple[int, dt.datetime] | None:
        started = time.perf_counter()
        async with db.begin() as conn:
            row = (
                await conn.execute(
                    select(ident, column).where(ident >= at).order_by(ident).limit(1)
                )
            ).first()
        report.timed(time.perf_counter() - started, 0)
        return (int(row[0]), row[1]) if row is not None else None

    started = time.perf_counter()
    async with db.begin() as conn:
        first, last = (await conn.execute(select(func.min(ident), func.max(ident)))).one()
    report.timed(time.perf_counter() - started, 0)
    if first is None:
        return None
    found = await probe(int(first))
    if found is None or found[1] >= before:
        return None
    lo, hi = found[0], int(last) + 1  # lo is old; every id from hi on is young or absent
    while hi - lo > 1:
        mid = (lo + hi) // 2
        seen = await probe(mid)
        if seen is None or seen[0] >= hi or seen[1] >= before:
            hi = mid
        else:
            lo = seen[0]
    return lo


async def _first_id(db: AsyncEngine, report: StepReport, table: Table) -> int:
    started = time.perf_counter()
    async with db.begin() as conn:
        first = (await conn.execute(select(func.min(table.c.id)))).scalar()
    report.timed(time.perf_counter() - started, 0)
    return int(first or 0)


# --- the steps -----------------------------------------------------------------------------


async def _delete_walk(
    db: AsyncEngine, report: StepReport, table: Table, last: int, *where: Any, batch: int
) -> None:
    """Delete the rows up to id `last` that match `where`, `batch` a transaction, in id
    order; each transaction starts after the previous one's last row, so rows kept
    (not matching) are read once."""
    ident = table.c.id
    after = 0

    async def work(conn: AsyncConnection) -> int:
        nonlocal after
        found = select(ident).where(ident > after, ident <= last, *where)
        ids = list((await conn.execute(found.order_by(ident).limit(batch))).scalars())
        if not ids:
            return 0
        await conn.execute(delete(table).where(ident.in_(ids)))
        after = int(ids[-1])
        return len(ids)

    while await _batch(db, report, work) >= batch:
        pass


async def prune_inbound(
    db: AsyncEngine, now: dt.datetime, periods: Periods, batch: int = BATCH
) -> StepReport:
    """Forget inbound dedupe entries older than `periods.inbound`."""
    report = StepReport()
    before = now - periods.inbound
    column = inbound_t.c.received_at
    last = await _last_id_before(db, report, inbound_t, column, before)
    if last is not None:
        await _delete_walk(db, report, inbound_t, last, column < before, batch=batch)
    return report


async def prune_outbox_text(
    db: AsyncEngine, now: dt.datetime, periods: Periods, batch: int = BATCH
) -> StepReport:
    """Replace the text of finished messages older than `periods.outbox` by a mark.

    Walks the ids from where the last run stopped (`OUTBOX_MARK`) to the last row older
    than the cut, `batch` ids a transaction; the rows, their status, kind, broadcast and
    delivery report stay as they were.
    """
    report = StepReport(touches_outbox=True)
    before = now - periods.outbox
    last = await _last_id_before(db, report, outbox_t, outbox_t.c.created_at, before)
    if last is None:
        return report
    started = time.perf_counter()
    async with db.begin() as conn:
        mark = await system_state.get_value(conn, key=OUTBOX_MARK)
        first = (await conn.execute(select(func.min(outbox_t.c.id)))).scalar()
    report.timed(time.perf_counter() - started, 0)
    lo = max(int(mark or 0), int(first or 1) - 1)
    pruned = {PRUNED: now.date().isoformat()}
    ident = outbox_t.c.id
    # By the primary key alone: with the status in the WHERE clause SQLite walks the
    # claim index (status first) through every sent row, 150 ms a batch (bench/).
    found = select(ident, outbox_t.c.status, outbox_t.c.created_at).where(
        ident > bindparam("lo"), ident <= bindparam("hi")
    )
    while lo < last:
        hi = min(lo + batch, last)

        async def work(conn: AsyncConnection, lo: int = lo, hi: int = hi) -> int:
            rows = (await conn.execute(found, {"lo": lo, "hi": hi})).all()
            ids = [r.id for r in rows if r.status in FINISHED and r.created_at < before]
            if ids:
                await conn.execute(update(outbox_t).where(ident.in_(ids)).values(payload=pruned))
            await system_state.set_value(conn, key=OUTBOX_MARK, value=hi)
            return len(ids)

        await _batch(db, report, work)
        lo = hi
    return report


async def prune_documents(
    db: AsyncEngine, now: dt.datetime, periods: Periods, batch: int = BATCH
) -> StepReport:
    """Delete documents whose public link has expired (not the unpublished photos).

    The table has no index on `expires_at` and its rows hold the files: it is walked by
    id ranges of `batch` ids, so that each transaction reads a bounded part of it.
    """
    report = StepReport()
    ident = documents_t.c.id
    started = time.perf_counter()
    async with db.begin() as conn:
        first, last = (await conn.execute(select(func.min(ident), func.max(ident)))).one()
    report.timed(time.perf_counter() - started, 0)
    if first is None:
        return report
    stmt = delete(documents_t).where(
        ident >= bindparam("lo"),
        ident < bindparam("hi"),
        documents_t.c.expires_at < bindparam("now", type_=documents_t.c.expires_at.type),
        # Published: its link outlived its creation (a received photo's did not).
        documents_t.c.expires_at > documents_t.c.created_at,
    )
    lo = int(first)
    while lo <= int(last):
        hi = lo + batch

        async def work(conn: AsyncConnection, lo: int = lo, hi: int = hi) -> int:
            return int((await conn.execute(stmt, {"lo": lo, "hi": hi, "now": now})).rowcount or 0)

        await _batch(db, report, work)
        lo = hi
    return report


async def prune_nudges(
    db: AsyncEngine, now: dt.datetime, periods: Periods, batch: int = BATCH
) -> StepReport:
    """Delete the cohort-wide nudge records older than `periods.nudges`.

    Never one the scheduler could look for again: the cut is at least
    `periods.scheduler_lookback` ago. A participant's own nudges are kept (see above).
    """
    report = StepReport()
    before = now - max(periods.nudges, periods.scheduler_lookback)
    ident, column = nudges_t.c.id, nudges_t.c.created_at
    last = await _last_id_before(db, report, nudges_t, column, before)
    if last is None:
        return report
    # By id ranges and the primary key alone (the person index would be walked whole).
    found = select(ident, nudges_t.c.person_id, column).where(
        ident >= bindparam("lo"), ident < bindparam("hi")
    )
    lo = await _first_id(db, report, nudges_t)
    while lo <= last:
        hi = min(lo + batch, last + 1)

        async def work(conn: AsyncConnection, lo: int = lo, hi: int = hi) -> int:
            rows = (await conn.execute(found, {"lo": lo, "hi": hi})).all()
            ids = [r.id for r in rows if r.person_id is None and r.created_at < before]
            if ids:
                await conn.execute(delete(nudges_t).where(ident.in_(ids)))
            return len(ids)

        await _batch(db, report, work)
        lo = hi
    return report


async def prune_audit(
    db: AsyncEngine, now: dt.datetime, periods: Periods, batch: int = BATCH
) -> StepReport:
    """Delete audit log entries older than `periods.audit` (by its index on `at`)."""
    report = StepReport()
    before = now - periods.audit
    old = select(audit_t.c.id).where(audit_t.c.at < before).order_by(audit_t.c.at).limit(batch)
    stmt = delete(audit_t).where(audit_t.c.id.in_(old.scalar_subquery()))

    async def work(conn: AsyncConnection) -> int:
        return int((await conn.execute(stmt)).rowcount or 0)

    while await _batch(db, report, work) >= batch:
        pass
    return report


PROGRAMME_LENGTH = dt.timedelta(weeks=16)  # a cohort ends sixteen weeks after its start


async def erase_ended_cohorts(
    db: AsyncEngine, now: dt.datetime, periods: Periods, batch: int = BATCH
) -> StepReport:
    """Erase the participants of cohorts that ended longer ago than `periods.ended_cohort`
    (one person per transaction; the audit log keeps one line per cohort, no names)."""
    report = StepReport(touches_outbox=True)
    if periods.ended_cohort is None:
        return report
    last_start = (now - PROGRAMME_LENGTH - periods.ended_cohort).date()
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(memberships_t.c.person_id, memberships_t.c.cohort_id)
                .select_from(
                    memberships_t.join(cohorts_t, cohorts_t.c.id == memberships_t.c.cohort_id)
                )
                .where(
                    cohorts_t.c.start_date < last_start,
                    memberships_t.c.role.in_((PARTICIPANT, INVITED)),
                )
                .order_by(memberships_t.c.person_id)
                .limit(batch * 50)  # the rest on the next day's run
            )
        ).all()
    cohorts: dict[int, int] = {}
    for row in rows:
        person_id = int(row.person_id)

        async def work(conn: AsyncConnection, person_id: int = person_id) -> int:
            await personal.erase(conn, person_id=person_id, now=now)
            return 1

        await _batch(db, report, work)
        cohorts[int(row.cohort_id)] = cohorts.get(int(row.cohort_id), 0) + 1
    if cohorts:
        async with db.begin() as conn:
            for cohort_id, erased in sorted(cohorts.items()):
                await audit_log.audit(
                    conn,
                    actor="retention",
                    action="person.erase",
                    target=f"cohort:{cohort_id}",
                    details={"participants": erased, "by": "retention"},
                    now=now,
                )
    return report


# The rules, in the order they run.
STEPS: tuple[Step, ...] = (
    Step("inbound_log", prune_inbound),
    Step("outbox_text", prune_outbox_text),
    Step("documents", prune_documents),
    Step("nudges", prune_nudges),
    Step("audit_log", prune_audit),
    Step("ended_cohorts", erase_ended_cohorts),
)


async def run(
    db: AsyncEngine,
    now: dt.datetime,
    periods: Periods,
    *,
    batch: int = BATCH,
    steps: tuple[Step, ...] = STEPS,
) -> Report:
    """Run every step; a step that fails stops the run (what it did so far stays)."""
    report = Report()
    for step in steps:
        started = time.perf_counter()
        part = await step.run(db, now, periods, batch)
        part.seconds = time.perf_counter() - started
        report.steps[step.name] = part
    return report


# --- the daily claim -----------------------------------------------------------------------

RUN_PREFIX = "retention.ran:"


async def claim_day(conn: AsyncConnection, *, day: dt.date, now: dt.datetime) -> bool:
    """Claim `day`'s run: True for the first worker to ask, False for every other.

    Claims of more than a week ago are removed (one small row a day is all they are).
    """
    key = f"{RUN_PREFIX}{day.isoformat()}"
    claimed = await system_state.insert_value(conn, key=key, value=now.isoformat())
    if claimed:
        old = f"{RUN_PREFIX}{(day - dt.timedelta(days=7)).isoformat()}"
        await system_state.delete_below(conn, prefix=RUN_PREFIX, below=old)
    return claimed


__all__ = [
    "BATCH",
    "FINISHED",
    "PRUNED",
    "STEPS",
    "Periods",
    "Report",
    "Step",
    "StepReport",
    "claim_day",
    "is_pruned",
    "run",
]
