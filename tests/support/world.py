"""The test world: cohorts, facilitators and participants made in a few lines, and a
console chat with the bot that returns what it answered."""

from __future__ import annotations

import datetime as dt
import io
import os
from typing import Any

from sqlalchemy import update

from bot.app import App
from storage import repo

PG_URL = os.environ.get("JAMAAH_TEST_POSTGRES_URL")  # the PostgreSQL leg, when set
START = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)  # Monday 08:00 in Jakarta


JOIN_CODE = "K7P3QX"


async def new_cohort(conn: Any, code: str, *, now: dt.datetime, region: str | None = None) -> int:
    """A bare cohort on an open connection (storage tests): no facilitator, no app."""
    return await repo.create_cohort(
        conn,
        code=code,
        name=f"Jamaah {code}",
        region=region or f"r/{code.lower()}",
        start_date=now.date(),
        timezone="Asia/Jakarta",
        capacity=25,
        language="id",
        join_code=f"J-{code}",
        now=now,
    )


async def new_participant(
    conn: Any, name: str, cohort_id: int, *, now: dt.datetime
) -> tuple[int, int]:
    """A console person named `name` taking part in `cohort_id`: (person id, contact id)."""
    person_id, contact_id = await repo.create_person(
        conn,
        channel="console",
        address=name.lower(),
        display_name=None,
        language="id",
        now=now,
        name=name,
    )
    await repo.add_membership(
        conn, person_id=person_id, role=repo.PARTICIPANT, cohort_id=cohort_id, now=now
    )
    return person_id, contact_id


async def make_cohort(
    app: App,
    *,
    code: str = "TRITIS-01",
    join_code: str = JOIN_CODE,
    capacity: int = 25,
    facilitator: str | None = "Bu Ani",
    name: str = "Jamaah Tritis",
    meeting_day: str | None = None,
    weeks_ago: int = 0,
) -> int:
    """A cohort (and its facilitator, console name 'pendamping') for a test.

    `meeting_day` (senin ... minggu) is the group's agreed day; `weeks_ago` moves the
    cohort's start back, for a test that begins with the programme under way.
    """
    async with app.db.begin() as conn:
        now = app.clock.now()
        cohort_id = await repo.create_cohort(
            conn,
            code=code,
            name=name,
            region="jawa-tengah/salatiga/tritis",
            start_date=now.date() - dt.timedelta(weeks=weeks_ago),
            timezone="Asia/Jakarta",
            capacity=capacity,
            language="id",
            join_code=join_code,
            now=now,
        )
        if facilitator:
            person_id, _ = await repo.create_person(
                conn,
                channel="console",
                address=f"pendamping-{code}",
                display_name=facilitator,
                language="id",
                now=now,
                name=facilitator,
            )
            await repo.add_membership(
                conn, person_id=person_id, role="facilitator", cohort_id=cohort_id, now=now
            )
        if meeting_day:
            await conn.execute(
                update(repo.cohorts)
                .where(repo.cohorts.c.id == cohort_id)
                .values(meeting_day=meeting_day)
            )
    return cohort_id


def console_output(app: App) -> str:
    out = app.console.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


async def chat(app: App, name: str, text: str) -> str:
    """Send one console message; return what the bot answered (console format)."""
    out = app.console.out
    assert isinstance(out, io.StringIO)
    before = len(out.getvalue())
    await app.dispatcher.handle(app.console.parse((name, text)))
    await app.sender.drain()
    return out.getvalue()[before:]
