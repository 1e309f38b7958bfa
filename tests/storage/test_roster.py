"""The roster the staff views read (storage/roster.py): one entry per participant, however
many contacts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import cohorts, conversation, people, roles, roster
from tests.support import world

NOW = dt.datetime(2027, 2, 1, 1, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


async def new_cohort(conn: AsyncConnection, code: str) -> int:
    return await world.new_cohort(conn, code, now=NOW)


async def test_the_roster_counts_weeks_and_merges_contacts(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        cohort = await new_cohort(conn, "C1")
        other = await new_cohort(conn, "C2")
        participants = {}
        for name, where in (("Siti", cohort), ("agus", cohort), ("Rina", other)):
            participants[name] = await world.new_participant(conn, name, where, now=NOW)
        siti, siti_console = participants["Siti"]
        for week in (1, 2, 3):
            await conversation.complete_week(
                conn, person_id=siti, cohort_id=cohort, week=week, now=NOW
            )
        await conversation.open_week(conn, person_id=siti, cohort_id=cohort, week=4, now=NOW)
        # Siti wrote on the console 3 days ago and on WhatsApp yesterday, where she is
        # still reachable though her console contact is not.
        await people.touch_contact(
            conn, contact_id=siti_console, now=NOW - 3 * DAY, display_name=None
        )
        await people.mark_unreachable(conn, contact_id=siti_console)
        wa = await people.add_contact(
            conn, person_id=siti, channel="whatsapp", address="+62811", now=NOW
        )
        await people.touch_contact(conn, contact_id=wa, now=NOW - DAY, display_name=None)
        await people.set_opted_out(conn, contact_id=participants["agus"][1], opted_out=True)

        rows = await roster.roster(conn, cohort_ids=[cohort])
    assert [r.name for r in rows] == ["agus", "Siti"]  # by name, case-insensitive; C2 not read
    agus, siti_row = rows
    assert (siti_row.weeks_done, siti_row.top_week, siti_row.open_week) == (3, 3, 4)
    assert siti_row.last_active == NOW - DAY and siti_row.contact_id == wa
    assert not siti_row.unreachable  # one reachable contact is enough
    assert agus.opted_out and agus.weeks_done == 0 and agus.open_week is None
    assert agus.last_active is None


async def test_the_contact_a_person_last_wrote_from_wins_over_one_that_never_wrote(
    db: AsyncEngine,
) -> None:
    # PostgreSQL sorts NULL first in DESC order, SQLite last: the roster must not care.
    async with db.begin() as conn:
        cohort = await new_cohort(conn, "C1")
        pid, console = await people.create_person(
            conn, channel="console", address="siti", display_name=None, language="id", now=NOW
        )
        await cohorts.add_membership(
            conn, person_id=pid, role=roles.PARTICIPANT, cohort_id=cohort, now=NOW
        )
        await people.touch_contact(conn, contact_id=console, now=NOW - DAY, display_name=None)
        await people.add_contact(conn, person_id=pid, channel="whatsapp", address="+62811", now=NOW)
        (row,) = await roster.roster(conn, cohort_ids=[cohort])
    assert row.contact_id == console and row.last_active == NOW - DAY
