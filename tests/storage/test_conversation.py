"""Conversation state (storage/conversation.py): answers keep their history, weeks are
opened and finished once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import conversation, people
from tests.support import world

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


async def new_cohort(db: AsyncEngine) -> int:
    async with db.begin() as conn:
        return await world.new_cohort(conn, "C1", now=NOW)


async def test_a_changed_answer_keeps_its_history(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        pid, _ = await people.create_person(
            conn, channel="console", address="s", display_name=None, language="id", now=NOW
        )
        await conversation.save_answer(
            conn,
            person_id=pid,
            key="w1.dues",
            value=5000,
            display={"id": "Rp 5.000", "en": "Rp 5.000"},
            now=NOW,
        )
        later = NOW + dt.timedelta(days=3)
        await conversation.save_answer(
            conn,
            person_id=pid,
            key="w1.dues",
            value=10000,
            display={"id": "Rp 10.000", "en": "Rp 10.000"},
            now=later,
        )
        answers = await conversation.load_answers(conn, person_id=pid)
        row = await conversation.answer_history(conn, person_id=pid, key="w1.dues")
    assert answers["w1.dues"].value == 10000 and answers["w1.dues"].display["id"] == "Rp 10.000"
    assert row is not None and row.value == 10000
    assert row.history == [{"value": 5000, "at": NOW.isoformat()}]
    assert row.updated_at == later  # aware UTC on both databases


async def test_progress_opens_then_completes_a_week(db: AsyncEngine) -> None:
    cohort_id = await new_cohort(db)
    async with db.begin() as conn:
        pid, _ = await people.create_person(
            conn, channel="console", address="s", display_name=None, language="id", now=NOW
        )
        await conversation.open_week(conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW)
        await conversation.open_week(conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW)
        await conversation.complete_week(
            conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW + dt.timedelta(hours=1)
        )
        rows = await conversation.list_progress(conn, person_id=pid, cohort_id=cohort_id)
    assert [(r.week, r.status) for r in rows] == [(1, "done")]
    assert rows[0].started_at == NOW and rows[0].completed_at == NOW + dt.timedelta(hours=1)


async def test_finishing_a_week_again_keeps_when_it_was_first_finished(db: AsyncEngine) -> None:
    cohort_id = await new_cohort(db)
    async with db.begin() as conn:
        pid, _ = await people.create_person(
            conn, channel="console", address="s", display_name=None, language="id", now=NOW
        )
        await conversation.complete_week(conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW)
        await conversation.complete_week(
            conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW + dt.timedelta(days=9)
        )
        rows = await conversation.list_progress(conn, person_id=pid, cohort_id=cohort_id)
    assert [(r.status, r.completed_at) for r in rows] == [("done", NOW)]
