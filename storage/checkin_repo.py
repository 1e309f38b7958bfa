"""Storage for facilitators' check-ins (meetings, visits, calls) and reviews of work.

Check-ins: what a facilitator logged, editable by its author for a day, and the
follow-up dates that become reminders. Reviews: one row per participant and artefact
(the product choice, the business plan, the permit route), submitted when the week
that makes it is finished and decided by a facilitator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from storage.tables import checkins_t, cohorts_t, people_t, progress_t, reviews_t

MEETING, VISIT, CALL = "meeting", "visit", "call"
SUBMITTED, APPROVED, RETURNED = "submitted", "approved", "returned"

# --- check-ins ---------------------------------------------------------------------


async def add_checkin(
    conn: AsyncConnection,
    *,
    cohort_id: int,
    facilitator_id: int,
    kind: str,
    now: dt.datetime,
    participant_id: int | None = None,
    attendance: Sequence[int] = (),
    note: str | None = None,
    rating: int | None = None,
    follow_up_on: dt.date | None = None,
    photo_token: str | None = None,
) -> int:
    result = await conn.execute(
        insert(checkins_t)
        .values(
            cohort_id=cohort_id,
            facilitator_id=facilitator_id,
            kind=kind,
            participant_id=participant_id,
            at=now,
            attendance=list(attendance),
            note=note,
            rating=rating,
            follow_up_on=follow_up_on,
            follow_up_sent=False,
            photo_token=photo_token,
            created_at=now,
            updated_at=now,
        )
        .returning(checkins_t.c.id)
    )
    return int(result.scalar_one())


async def get_checkin(conn: AsyncConnection, *, checkin_id: int) -> Row[Any] | None:
    return (await conn.execute(select(checkins_t).where(checkins_t.c.id == checkin_id))).first()


async def update_checkin(
    conn: AsyncConnection, *, checkin_id: int, now: dt.datetime, **values: Any
) -> None:
    """Change a check-in's note, attendance, rating or follow-up (a new date sends anew)."""
    allowed = {"note", "attendance", "rating", "follow_up_on", "photo_token"}
    changes = {k: v for k, v in values.items() if k in allowed}
    if "follow_up_on" in changes:
        changes["follow_up_sent"] = False
    await conn.execute(
        update(checkins_t).where(checkins_t.c.id == checkin_id).values(**changes, updated_at=now)
    )


async def recent_checkins(
    conn: AsyncConnection, *, cohort_ids: Sequence[int], limit: int = 10
) -> Sequence[Row[Any]]:
    """The latest check-ins of these cohorts, newest first, with names and cohort code."""
    if not cohort_ids:
        return []
    author = aliased(people_t)
    visited = aliased(people_t)
    stmt = (
        select(
            checkins_t,
            author.c.name.label("facilitator_name"),
            visited.c.name.label("participant_name"),
            cohorts_t.c.code.label("cohort_code"),
            cohorts_t.c.timezone,
        )
        .select_from(
            checkins_t.join(author, author.c.id == checkins_t.c.facilitator_id)
            .join(cohorts_t, cohorts_t.c.id == checkins_t.c.cohort_id)
            .outerjoin(visited, visited.c.id == checkins_t.c.participant_id)
        )
        .where(checkins_t.c.cohort_id.in_(sorted(cohort_ids)))
        .order_by(checkins_t.c.at.desc(), checkins_t.c.id.desc())
        .limit(limit)
    )
    return (await conn.execute(stmt)).all()


async def due_follow_ups(conn: AsyncConnection, *, until: dt.date) -> Sequence[Row[Any]]:
    """Follow-ups not yet sent whose date is `until` or earlier, with their cohort's
    calendar columns (the caller decides, in the cohort's time, whether it is time)."""
    visited = aliased(people_t)
    stmt = (
        select(
            checkins_t.c.id,
            checkins_t.c.facilitator_id,
            checkins_t.c.kind,
            checkins_t.c.note,
            checkins_t.c.follow_up_on,
            checkins_t.c.at,
            visited.c.name.label("participant_name"),
            cohorts_t.c.code,
            cohorts_t.c.name.label("cohort_name"),
            cohorts_t.c.start_date,
            cohorts_t.c.pauses,
            cohorts_t.c.timezone,
            cohorts_t.c.quiet_start,
            cohorts_t.c.quiet_end,
        )
        .select_from(
            checkins_t.join(cohorts_t, cohorts_t.c.id == checkins_t.c.cohort_id).outerjoin(
                visited, visited.c.id == checkins_t.c.participant_id
            )
        )
        .where(
            checkins_t.c.follow_up_on.is_not(None),
            checkins_t.c.follow_up_on <= until,
            checkins_t.c.follow_up_sent.is_(False),
        )
        .order_by(checkins_t.c.follow_up_on, checkins_t.c.id)
        .limit(500)
    )
    return (await conn.execute(stmt)).all()


async def claim_follow_up(conn: AsyncConnection, *, checkin_id: int) -> bool:
    """Mark a follow-up sent; False when another tick already did (sent once)."""
    result = await conn.execute(
        update(checkins_t)
        .where(checkins_t.c.id == checkin_id, checkins_t.c.follow_up_sent.is_(False))
        .values(follow_up_sent=True)
    )
    return bool(result.rowcount)


# --- reviews -----------------------------------------------------------------------


async def submit_review(
    conn: AsyncConnection, *, person_id: int, cohort_id: int, artefact: str, now: dt.datetime
) -> None:
    """The artefact waits for review: a new row, or a returned (or waiting) one again.

    An approved artefact stays approved.
    """
    row = (
        await conn.execute(
            select(reviews_t.c.id, reviews_t.c.status).where(
                reviews_t.c.person_id == person_id, reviews_t.c.artefact == artefact
            )
        )
    ).first()
    if row is None:
        await conn.execute(
            insert(reviews_t).values(
                person_id=person_id,
                cohort_id=cohort_id,
                artefact=artefact,
                status=SUBMITTED,
                submitted_at=now,
            )
        )
    elif row.status != APPROVED:
        await conn.execute(
            update(reviews_t)
            .where(reviews_t.c.id == row.id)
            .values(status=SUBMITTED, cohort_id=cohort_id, submitted_at=now)
        )


async def resubmit_returned(
    conn: AsyncConnection, *, person_id: int, artefact: str, now: dt.datetime
) -> bool:
    """A returned artefact the participant changed waits for review again."""
    result = await conn.execute(
        update(reviews_t)
        .where(
            reviews_t.c.person_id == person_id,
            reviews_t.c.artefact == artefact,
            reviews_t.c.status == RETURNED,
        )
        .values(status=SUBMITTED, submitted_at=now)
    )
    return bool(result.rowcount)


async def waiting_reviews(
    conn: AsyncConnection, *, cohort_ids: Sequence[int], limit: int = 50
) -> Sequence[Row[Any]]:
    """Submitted artefacts of these cohorts, oldest first, with the participant's name."""
    if not cohort_ids:
        return []
    stmt = (
        select(reviews_t, people_t.c.name, cohorts_t.c.code.label("cohort_code"))
        .join(people_t, people_t.c.id == reviews_t.c.person_id)
        .join(cohorts_t, cohorts_t.c.id == reviews_t.c.cohort_id)
        .where(reviews_t.c.cohort_id.in_(sorted(cohort_ids)), reviews_t.c.status == SUBMITTED)
        .order_by(reviews_t.c.submitted_at, reviews_t.c.id)
        .limit(limit)
    )
    return (await conn.execute(stmt)).all()


async def get_review(conn: AsyncConnection, *, review_id: int) -> Row[Any] | None:
    stmt = (
        select(
            reviews_t, people_t.c.name, people_t.c.language, cohorts_t.c.code.label("cohort_code")
        )
        .join(people_t, people_t.c.id == reviews_t.c.person_id)
        .join(cohorts_t, cohorts_t.c.id == reviews_t.c.cohort_id)
        .where(reviews_t.c.id == review_id)
    )
    return (await conn.execute(stmt)).first()


async def decide_review(
    conn: AsyncConnection,
    *,
    review_id: int,
    status: str,
    reviewer_id: int,
    comment: str | None,
    now: dt.datetime,
) -> bool:
    """Approve or return a submitted artefact; False when it is no longer waiting
    (decided already, by a double tap or by another facilitator)."""
    result = await conn.execute(
        update(reviews_t)
        .where(reviews_t.c.id == review_id, reviews_t.c.status == SUBMITTED)
        .values(status=status, comment=comment, reviewed_by=reviewer_id, reviewed_at=now)
    )
    return bool(result.rowcount)


async def mark_week_reviewed(
    conn: AsyncConnection, *, person_id: int, cohort_id: int, week: int, reviewer_id: int
) -> None:
    await conn.execute(
        update(progress_t)
        .where(
            and_(
                progress_t.c.person_id == person_id,
                progress_t.c.cohort_id == cohort_id,
                progress_t.c.week == week,
            )
        )
        .values(reviewed_by=reviewer_id)
    )
