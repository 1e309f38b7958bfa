"""Each cohort's progress figures, kept up to date on write (the `cohort_tallies` table).

/progres over a region of a thousand cohorts cannot count 300,000 progress rows and
scan 700,000 answers in its 250 ms target. So the figures that come from them (weeks
finished, per week too, products chosen, permits filed, first sales) are kept per
cohort, and worked out again, for the whole cohort, from the rows themselves:

- by every storage function that changes them, in the same transaction
  (`conversation.complete_week` the weeks; `conversation.save_answer` of an artefact
  key, `conversation.delete_answers` and a participant joining who has such answers
  (`cohorts.add_membership`, `invites.accept_invited`), the rest);
- for cohorts that have no row yet, by `fill_missing`, which `storage.db.upgrade` runs
  after migrating (a database from before the table, or rows written around the
  functions above). A reader that finds no row works the figures out there and then.

Working a cohort out again, rather than adding one to a count, means a tally cannot
drift: it is always what its rows say at the last write. Two writes in one cohort at
once are ordered by the tally's row lock, taken before counting, so the second counts
what the first committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    and_,
    bindparam,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.ids import in_ids
from storage.models import UTCDateTime
from storage.roles import PARTICIPANT
from storage.tables import answers_t, cohorts_t, memberships_t, progress_t, tallies_t

WEEKS = 16
# The answers that mark a key artefact (content/flows/week03/04/12/13.yaml).
PRODUCT_KEYS = ("w3.choice", "w4.product")  # the idea chosen in week 3, or renamed in week 4
PERMIT_FILED = "w12.permit_filed"  # yes/no: "have you filed for the NIB/permit?"
FIRST_SALES = "w13.first_sales_units"  # units sold in the first sales; more than 0 counts
ARTEFACT_KEYS = (*PRODUCT_KEYS, PERMIT_FILED, FIRST_SALES)
CHUNK = 500  # cohorts worked out per statement when filling many


@dataclass
class Tally:
    """One cohort's figures from its progress and answers."""

    weeks_done: int = 0  # finished weeks, summed over the participants
    finished: list[int] = field(default_factory=lambda: [0] * WEEKS)  # per week 1..16
    product: int = 0  # participants who chose a product
    permit_filed: int = 0
    first_sales: int = 0


async def compute(
    conn: AsyncConnection,
    cohort_ids: Sequence[int],
    *,
    progress: bool = True,
    answers: bool = True,
) -> dict[int, Tally]:
    """The figures of these cohorts, counted from their rows: from the progress rows
    and from the answers (one GROUP BY query each; `progress`/`answers` False skips one)."""
    found = {cid: Tally() for cid in cohort_ids}
    if not found:
        return found
    dialect = conn.dialect.name
    if progress:
        rows = await conn.execute(
            select(progress_t.c.cohort_id, progress_t.c.week, func.count().label("n"))
            .where(in_ids(dialect, progress_t.c.cohort_id, found), progress_t.c.status == "done")
            .group_by(progress_t.c.cohort_id, progress_t.c.week)
        )
        for row in rows:
            tally = found[row.cohort_id]
            tally.weeks_done += int(row.n)
            if 1 <= row.week <= WEEKS:
                tally.finished[row.week - 1] = int(row.n)
    if not answers:
        return found

    # A product counted once per person (week 3's choice, or week 4's new name).
    value = sql_cast(answers_t.c.value, String)
    rows = await conn.execute(
        select(
            memberships_t.c.cohort_id,
            func.count(
                func.distinct(case((answers_t.c.key.in_(PRODUCT_KEYS), answers_t.c.person_id)))
            ).label("product"),
            func.sum(
                case(
                    (and_(answers_t.c.key == PERMIT_FILED, func.lower(value) == "true"), 1),
                    else_=0,
                )
            ).label("permit"),
            func.sum(
                case(
                    (
                        and_(
                            answers_t.c.key == FIRST_SALES,
                            value.not_in(("0", "null", "0.0", '"0"')),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("sales"),
        )
        .select_from(
            memberships_t.join(answers_t, answers_t.c.person_id == memberships_t.c.person_id)
        )
        .where(
            in_ids(dialect, memberships_t.c.cohort_id, found),
            memberships_t.c.role == PARTICIPANT,
            answers_t.c.key.in_(ARTEFACT_KEYS),
        )
        .group_by(memberships_t.c.cohort_id)
    )
    for row in rows:
        tally = found[row.cohort_id]
        tally.product = int(row.product or 0)
        tally.permit_filed = int(row.permit or 0)
        tally.first_sales = int(row.sales or 0)
    return found


# Take the tally's row before counting: a second writer in the same cohort waits here
# until the first commits, then counts what it wrote. A row made here is marked (-1
# weeks) as never counted, so that it is counted whole, whatever the write changed.
_LOCK_SQL = (
    "INSERT INTO cohort_tallies "
    "(cohort_id, weeks_done, finished, product, permit_filed, first_sales, refreshed_at) "
    "VALUES (:cohort_id, -1, :finished, 0, 0, 0, :now) "
    "ON CONFLICT (cohort_id) DO UPDATE SET refreshed_at = excluded.refreshed_at"
)
_LOCK_TYPES = (bindparam("finished", type_=JSON()), bindparam("now", type_=UTCDateTime()))
_LOCK_ONE = text(_LOCK_SQL + " RETURNING weeks_done").bindparams(*_LOCK_TYPES)
_LOCK_MANY = text(_LOCK_SQL).bindparams(*_LOCK_TYPES)
_PROGRESS_COLUMNS = ("weeks_done", "finished")
_ANSWER_COLUMNS = ("product", "permit_filed", "first_sales")


def _store(columns: Sequence[str]) -> Any:
    kinds = {"finished": JSON()}
    return (
        update(tallies_t)
        .where(tallies_t.c.cohort_id == bindparam("c_id"))
        .values({c: bindparam(c, type_=kinds.get(c, Integer())) for c in columns})
    )


_STORE = {
    (True, True): _store(_PROGRESS_COLUMNS + _ANSWER_COLUMNS),
    (True, False): _store(_PROGRESS_COLUMNS),
    (False, True): _store(_ANSWER_COLUMNS),
}


async def refresh(
    conn: AsyncConnection,
    cohort_ids: Iterable[int],
    *,
    now: dt.datetime,
    progress: bool = True,
    answers: bool = True,
) -> None:
    """Work these cohorts' tallies out again from their rows, and store them: the
    figures from the progress rows, from the answers, or (the default) both."""
    ids = sorted(set(cohort_ids))  # one order for every writer: no deadlock between two
    empty = [0] * WEEKS
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if len(chunk) == 1:  # a write's own cohort
            params = {"cohort_id": chunk[0], "finished": empty, "now": now}
            new = (await conn.execute(_LOCK_ONE, params)).scalar_one() < 0
        else:
            await conn.execute(
                _LOCK_MANY, [{"cohort_id": c, "finished": empty, "now": now} for c in chunk]
            )
            new = True
        parts = (True, True) if new else (progress, answers)
        if parts == (False, False):
            continue
        counted = await compute(conn, chunk, progress=parts[0], answers=parts[1])
        # Only the columns being stored: an update() takes any other key that names a
        # column as a value to set.
        columns = (_PROGRESS_COLUMNS if parts[0] else ()) + (_ANSWER_COLUMNS if parts[1] else ())
        await conn.execute(
            _STORE[parts],
            [{"c_id": cid, **{c: getattr(t, c) for c in columns}} for cid, t in counted.items()],
        )


_PERSONS_COHORTS = select(memberships_t.c.cohort_id).where(
    memberships_t.c.person_id == bindparam("person_id"),
    memberships_t.c.role == PARTICIPANT,
    memberships_t.c.cohort_id.is_not(None),
)
_HAS_COUNTED_ANSWER = (
    select(answers_t.c.id)
    .where(answers_t.c.person_id == bindparam("person_id"), answers_t.c.key.in_(ARTEFACT_KEYS))
    .limit(1)
)


async def refresh_person(conn: AsyncConnection, person_id: int, *, now: dt.datetime) -> None:
    """Their answers changed: the tallies of the cohorts they take part in."""
    rows = await conn.execute(_PERSONS_COHORTS, {"person_id": person_id})
    await refresh(conn, [row.cohort_id for row in rows], now=now, progress=False)


async def person_joined(
    conn: AsyncConnection, person_id: int, cohort_id: int, *, now: dt.datetime
) -> None:
    """They became a participant of `cohort_id`: their answers count there now (most
    who join have none that count: nothing to do)."""
    if (await conn.execute(_HAS_COUNTED_ANSWER, {"person_id": person_id})).first() is not None:
        await refresh(conn, [cohort_id], now=now, progress=False)


async def read(conn: AsyncConnection, cohort_ids: Sequence[int]) -> dict[int, Tally]:
    """The tallies of these cohorts; any without a row yet is counted here (not stored:
    a reader does not write)."""
    found: dict[int, Tally] = {}
    if not cohort_ids:
        return found
    rows = await conn.execute(
        select(
            tallies_t.c.cohort_id,
            tallies_t.c.weeks_done,
            tallies_t.c.finished,
            tallies_t.c.product,
            tallies_t.c.permit_filed,
            tallies_t.c.first_sales,
        ).where(in_ids(conn.dialect.name, tallies_t.c.cohort_id, cohort_ids))
    )
    for row in rows:
        finished = [int(n) for n in (row.finished or [])][:WEEKS]
        found[row.cohort_id] = Tally(
            weeks_done=int(row.weeks_done),
            finished=finished + [0] * (WEEKS - len(finished)),
            product=int(row.product),
            permit_filed=int(row.permit_filed),
            first_sales=int(row.first_sales),
        )
    missing = [cid for cid in cohort_ids if cid not in found]
    if missing:
        found.update(await compute(conn, missing))
    return found


async def fill_missing(conn: AsyncConnection, *, now: dt.datetime) -> int:
    """Tallies for every cohort that has none; how many were made."""
    missing = (
        select(cohorts_t.c.id)
        .outerjoin(tallies_t, tallies_t.c.cohort_id == cohorts_t.c.id)
        .where(tallies_t.c.cohort_id.is_(None))
        .order_by(cohorts_t.c.id)
    )
    ids: list[Any] = list((await conn.execute(missing)).scalars())
    await refresh(conn, ids, now=now)
    return len(ids)
