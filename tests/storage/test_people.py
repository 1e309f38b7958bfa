"""People and contacts (storage/people.py): one contact per channel and address, and who
wrote, read in one query."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import cohorts, conversation, people
from tests.support import world

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


async def test_contacts_are_unique_per_channel_and_address(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await people.create_person(
            conn, channel="console", address="siti", display_name=None, language="id", now=NOW
        )
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await people.create_person(
                conn, channel="console", address="siti", display_name=None, language="id", now=NOW
            )


async def test_identity_reads_cohort_facilitator_and_session(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        cohort_id = await world.new_cohort(conn, "C1", now=NOW)
    async with db.begin() as conn:
        fac, _ = await people.create_person(
            conn,
            channel="console",
            address="ani",
            display_name=None,
            language="id",
            now=NOW,
            name="Bu Ani",
        )
        await cohorts.add_membership(
            conn, person_id=fac, role="facilitator", cohort_id=cohort_id, now=NOW
        )
        pid, cid = await people.create_person(
            conn, channel="console", address="siti", display_name="Siti", language="en", now=NOW
        )
        assert await people.find_identity(conn, channel="console", address="siti") is not None
        await cohorts.add_membership(
            conn, person_id=pid, role="participant", cohort_id=cohort_id, now=NOW
        )
        await conversation.save_session(
            conn,
            person_id=pid,
            cohort_id=cohort_id,
            flow="week01",
            step="goal",
            state={"errors": 2},
            now=NOW,
        )
        who = await people.find_identity(conn, channel="console", address="siti")
    assert who is not None
    assert (who.person_id, who.contact_id, who.language) == (pid, cid, "en")
    assert (who.cohort_id, who.cohort_name, who.facilitator) == (cohort_id, "Jamaah C1", "Bu Ani")
    assert (who.session_flow, who.session_step, who.session_state) == (
        "week01",
        "goal",
        {"errors": 2},
    )
