"""Storage for the coordinators' views (/progres, /peserta, /ekspor).

Every figure across cohorts comes from one query over all of them (a region may hold a
thousand cohorts): no query runs per cohort or per person. The figures counted from
progress and answers are read from each cohort's tally (storage/tallies.py); who is
active, reviews and check-ins are counted as asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tallies
from storage.ids import in_ids
from storage.roles import FACILITATOR, PARTICIPANT
from storage.tables import (
    answers_t,
    checkins_t,
    cohorts_t,
    contacts_t,
    memberships_t,
    people_t,
    reviews_t,
)
from storage.tallies import ARTEFACT_KEYS, FIRST_SALES, PERMIT_FILED, PRODUCT_KEYS, WEEKS

__all__ = ["ARTEFACT_KEYS", "FIRST_SALES", "PERMIT_FILED", "PRODUCT_KEYS", "WEEKS"]


@dataclass
class CohortStats:
    """One cohort's figures for /progres."""

    cohort_id: int
    participants: int = 0
    active: int = 0  # wrote to the bot (any channel) in the last `active_days`
    weeks_done: int = 0  # finished weeks, summed over the participants
    finished: list[int] = field(default_factory=lambda: [0] * WEEKS)  # per week 1..16
    product: int = 0
    plan_approved: int = 0
    permit_filed: int = 0
    first_sales: int = 0
    checkins: int = 0  # logged in the last `checkin_days`
    quiet_facilitators: list[str] = field(default_factory=list)  # no check-in for too long


async def cohort_stats(
    conn: AsyncConnection,
    *,
    cohort_ids: Sequence[int],
    now: dt.datetime,
    active_days: int = 14,
    checkin_days: int = 14,
    quiet_days: int = 10,
) -> dict[int, CohortStats]:
    """Per cohort: participants, active ones, weeks done (per week too), artefacts,
    recent check-ins and the facilitators who logged none for over `quiet_days`."""
    stats = {cid: CohortStats(cohort_id=cid) for cid in cohort_ids}
    if not cohort_ids:
        return stats
    dialect = conn.dialect.name
    active_since = now - dt.timedelta(days=active_days)

    # Participants, and those who wrote lately (a person may have several contacts).
    rows = await conn.execute(
        select(
            memberships_t.c.cohort_id,
            func.count(func.distinct(memberships_t.c.person_id)).label("n"),
            func.count(
                func.distinct(
                    case((contacts_t.c.last_inbound_at >= active_since, memberships_t.c.person_id))
                )
            ).label("active"),
        )
        .select_from(
            memberships_t.outerjoin(contacts_t, contacts_t.c.person_id == memberships_t.c.person_id)
        )
        .where(
            in_ids(dialect, memberships_t.c.cohort_id, cohort_ids),
            memberships_t.c.role == PARTICIPANT,
        )
        .group_by(memberships_t.c.cohort_id)
    )
    for row in rows:
        entry = stats[row.cohort_id]
        entry.participants, entry.active = int(row.n), int(row.active or 0)

    # Weeks finished and key artefacts: the tallies.
    for cohort_id, tally in (await tallies.read(conn, cohort_ids)).items():
        entry = stats[cohort_id]
        entry.weeks_done, entry.finished = tally.weeks_done, tally.finished
        entry.product, entry.permit_filed = tally.product, tally.permit_filed
        entry.first_sales = tally.first_sales

    # Plans a facilitator approved (the reviews table, /tinjau).
    rows = await conn.execute(
        select(reviews_t.c.cohort_id, func.count().label("n"))
        .where(
            in_ids(dialect, reviews_t.c.cohort_id, cohort_ids),
            reviews_t.c.artefact == "plan",
            reviews_t.c.status == "approved",
        )
        .group_by(reviews_t.c.cohort_id)
    )
    for row in rows:
        stats[row.cohort_id].plan_approved = int(row.n)

    # Check-ins logged lately.
    rows = await conn.execute(
        select(checkins_t.c.cohort_id, func.count().label("n"))
        .where(
            in_ids(dialect, checkins_t.c.cohort_id, cohort_ids),
            checkins_t.c.at >= now - dt.timedelta(days=checkin_days),
        )
        .group_by(checkins_t.c.cohort_id)
    )
    for row in rows:
        stats[row.cohort_id].checkins = int(row.n)

    # Facilitators whose last check-in for their cohort is older than `quiet_days` (or none).
    latest = (
        select(
            checkins_t.c.cohort_id,
            checkins_t.c.facilitator_id,
            func.max(checkins_t.c.at).label("last"),
        )
        .where(in_ids(dialect, checkins_t.c.cohort_id, cohort_ids))
        .group_by(checkins_t.c.cohort_id, checkins_t.c.facilitator_id)
        .subquery()
    )
    rows = await conn.execute(
        select(memberships_t.c.cohort_id, people_t.c.name)
        .select_from(
            memberships_t.join(people_t, people_t.c.id == memberships_t.c.person_id).outerjoin(
                latest,
                and_(
                    latest.c.cohort_id == memberships_t.c.cohort_id,
                    latest.c.facilitator_id == memberships_t.c.person_id,
                ),
            )
        )
        .where(
            in_ids(dialect, memberships_t.c.cohort_id, cohort_ids),
            memberships_t.c.role == FACILITATOR,
            or_(latest.c.last.is_(None), latest.c.last < now - dt.timedelta(days=quiet_days)),
        )
        .order_by(memberships_t.c.cohort_id, people_t.c.name)
    )
    for row in rows:
        stats[row.cohort_id].quiet_facilitators.append(row.name or "?")
    return stats


# --- one participant (/peserta) ----------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_participants(
    conn: AsyncConnection,
    *,
    name: str,
    cohort_ids: Sequence[int] | None = None,
    scope: Any = None,
    limit: int = 20,
) -> Sequence[Row[Any]]:
    """Participants whose name contains `name` (any case), in the cohorts that the
    WHERE clause `scope` on `cohorts` admits (and in `cohort_ids` when given)."""
    pattern = "%" + _like_escape(name.strip().lower()) + "%"
    stmt = (
        select(
            people_t.c.id.label("person_id"),
            people_t.c.name,
            people_t.c.village,
            cohorts_t.c.id.label("cohort_id"),
            cohorts_t.c.code,
            cohorts_t.c.name.label("cohort_name"),
        )
        .select_from(
            memberships_t.join(people_t, people_t.c.id == memberships_t.c.person_id).join(
                cohorts_t, cohorts_t.c.id == memberships_t.c.cohort_id
            )
        )
        .where(
            memberships_t.c.role == PARTICIPANT,
            func.lower(people_t.c.name).like(pattern, escape="\\"),
        )
        .order_by(func.lower(people_t.c.name), cohorts_t.c.code, people_t.c.id)
        .limit(limit)
    )
    if scope is not None:
        stmt = stmt.where(scope)
    if cohort_ids is not None:
        stmt = stmt.where(in_ids(conn.dialect.name, cohorts_t.c.id, cohort_ids))
    return (await conn.execute(stmt)).all()


async def person(conn: AsyncConnection, *, person_id: int) -> Row[Any] | None:
    return (
        await conn.execute(
            select(people_t.c.id, people_t.c.name, people_t.c.village).where(
                people_t.c.id == person_id
            )
        )
    ).first()


async def answers_of(
    conn: AsyncConnection, *, person_id: int, keys: Sequence[str]
) -> dict[str, Row[Any]]:
    rows = await conn.execute(
        select(answers_t.c.key, answers_t.c.value, answers_t.c.display).where(
            answers_t.c.person_id == person_id, answers_t.c.key.in_(list(keys))
        )
    )
    return {row.key: row for row in rows}


async def reviews_of(conn: AsyncConnection, *, person_id: int) -> Sequence[Row[Any]]:
    return (
        await conn.execute(
            select(
                reviews_t.c.artefact,
                reviews_t.c.status,
                reviews_t.c.comment,
                reviews_t.c.submitted_at,
                reviews_t.c.reviewed_at,
            )
            .where(reviews_t.c.person_id == person_id)
            .order_by(reviews_t.c.submitted_at)
        )
    ).all()


async def checkins_about(
    conn: AsyncConnection, *, person_id: int, limit: int = 3
) -> Sequence[Row[Any]]:
    """The latest visits and calls logged about this participant."""
    return (
        await conn.execute(
            select(
                checkins_t.c.kind,
                checkins_t.c.at,
                checkins_t.c.rating,
                checkins_t.c.note,
                people_t.c.name.label("facilitator"),
            )
            .select_from(
                checkins_t.outerjoin(people_t, people_t.c.id == checkins_t.c.facilitator_id)
            )
            .where(checkins_t.c.participant_id == person_id)
            .order_by(checkins_t.c.at.desc(), checkins_t.c.id.desc())
            .limit(limit)
        )
    ).all()


# --- export (/ekspor) --------------------------------------------------------------------


async def artefacts_by_person(
    conn: AsyncConnection, *, cohort_ids: Sequence[int], plan_keys: Sequence[str] = ()
) -> dict[int, dict[str, Any]]:
    """person id -> {answer key: value} for the artefact keys (and `plan_keys`), plus
    "plan_approved": True for those whose plan a facilitator approved."""
    found: dict[int, dict[str, Any]] = {}
    if not cohort_ids:
        return found
    keys = [*ARTEFACT_KEYS, *plan_keys]
    rows = await conn.execute(
        select(answers_t.c.person_id, answers_t.c.key, answers_t.c.value)
        .select_from(
            memberships_t.join(answers_t, answers_t.c.person_id == memberships_t.c.person_id)
        )
        .where(
            in_ids(conn.dialect.name, memberships_t.c.cohort_id, cohort_ids),
            memberships_t.c.role == PARTICIPANT,
            answers_t.c.key.in_(keys),
        )
    )
    for row in rows:
        found.setdefault(row.person_id, {})[row.key] = row.value
    rows = await conn.execute(
        select(reviews_t.c.person_id).where(
            in_ids(conn.dialect.name, reviews_t.c.cohort_id, cohort_ids),
            reviews_t.c.artefact == "plan",
            reviews_t.c.status == "approved",
        )
    )
    for row in rows:
        found.setdefault(row.person_id, {})["plan_approved"] = True
    return found


async def checkins_in(conn: AsyncConnection, *, cohort_ids: Sequence[int]) -> Sequence[Row[Any]]:
    """Every check-in of these cohorts, newest first, with the names it refers to."""
    if not cohort_ids:
        return []
    facilitator = people_t.alias("facilitator")
    about = people_t.alias("about")
    return (
        await conn.execute(
            select(
                checkins_t.c.id,
                checkins_t.c.cohort_id,
                checkins_t.c.kind,
                checkins_t.c.at,
                checkins_t.c.attendance,
                checkins_t.c.note,
                checkins_t.c.rating,
                checkins_t.c.follow_up_on,
                facilitator.c.name.label("facilitator"),
                about.c.name.label("participant"),
            )
            .select_from(
                checkins_t.outerjoin(
                    facilitator, facilitator.c.id == checkins_t.c.facilitator_id
                ).outerjoin(about, about.c.id == checkins_t.c.participant_id)
            )
            .where(in_ids(conn.dialect.name, checkins_t.c.cohort_id, cohort_ids))
            .order_by(checkins_t.c.cohort_id, checkins_t.c.at.desc(), checkins_t.c.id.desc())
        )
    ).all()
