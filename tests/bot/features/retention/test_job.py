"""The daily retention job (bot/features/retention): once a day at its hour, one worker,
one log line; and a nudge whose record was pruned is not sent again."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, insert, select, update

from bot.app import App
from bot.core.config import Settings
from bot.features.retention.job import RetentionJob
from storage import retention
from storage.retention import Periods
from storage.tables import cohorts_t, inbound_t, nudges_t, outbox_t
from tests.support.scheduling import participant
from tests.support.world import make_cohort

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
# 2027-02-01 03:00 in Jakarta (WIB, UTC+7), the job's default hour.
THREE_AM = dt.datetime(2027, 1, 31, 20, 0, tzinfo=dt.UTC)


def defaults() -> Settings:
    return Settings(_env_file=None, _environ={})


async def old_inbound(app: App, n: int, *, at: dt.datetime) -> None:
    async with app.db.begin() as conn:
        first = (await conn.execute(select(func.count()).select_from(inbound_t))).scalar_one()
        await conn.execute(
            insert(inbound_t),
            [
                {"channel": "telegram", "external_id": f"u{first + i}", "received_at": at}
                for i in range(n)
            ],
        )


async def inbound_left(app: App) -> int:
    async with app.db.begin() as conn:
        return int((await conn.execute(select(func.count()).select_from(inbound_t))).scalar_one())


async def test_the_job_runs_once_a_day_at_its_hour(app: App) -> None:
    job = RetentionJob(defaults)
    await old_inbound(app, 3, at=THREE_AM - 30 * DAY)

    await job(app.scheduler, THREE_AM - dt.timedelta(minutes=1))  # 02:59: not yet
    assert await inbound_left(app) == 3
    await job(app.scheduler, THREE_AM + dt.timedelta(minutes=5))
    assert await inbound_left(app) == 0

    # Later that day, in this worker and in another: the day is done.
    await old_inbound(app, 2, at=THREE_AM - 30 * DAY)
    await job(app.scheduler, THREE_AM + HOUR)
    await RetentionJob(defaults)(app.scheduler, THREE_AM + 2 * HOUR)
    assert await inbound_left(app) == 2

    # The next day, out of its hours (the bot was down at 03:00): not then either.
    await RetentionJob(defaults)(app.scheduler, THREE_AM + DAY + 5 * HOUR)
    assert await inbound_left(app) == 2
    # The day after, at 03:00: again.
    await job(app.scheduler, THREE_AM + 2 * DAY)
    assert await inbound_left(app) == 0


async def test_the_hour_is_a_setting(app: App) -> None:
    job = RetentionJob(lambda: Settings(_env_file=None, _environ={"JAMAAH_RETENTION_HOUR": "1"}))
    await old_inbound(app, 1, at=THREE_AM - 30 * DAY)
    await job(app.scheduler, THREE_AM - 2 * HOUR + dt.timedelta(minutes=1))  # 01:01 WIB
    assert await inbound_left(app) == 0


async def test_a_run_logs_one_line_of_counts(app: App, caplog: pytest.LogCaptureFixture) -> None:
    await old_inbound(app, 4, at=THREE_AM - 8 * DAY)
    await old_inbound(app, 1, at=THREE_AM - 6 * DAY)
    with caplog.at_level(logging.INFO, logger="bot.features.retention"):
        await RetentionJob(defaults)(app.scheduler, THREE_AM)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.features.retention")]
    assert len(lines) == 1
    assert lines[0].startswith("retention: pruned inbound_log 4, outbox_text 0, documents 0")
    assert await inbound_left(app) == 1


# --- a pruned nudge is not sent again ------------------------------------------------------


async def meeting_rows(app: App) -> list[str]:
    async with app.db.begin() as conn:
        stmt = select(outbox_t.c.dedupe_key).where(outbox_t.c.kind == "meeting")
        return sorted(str(k) for k in (await conn.execute(stmt)).scalars())


async def meeting_keys(app: App) -> set[str]:
    async with app.db.begin() as conn:
        stmt = select(nudges_t.c.key).where(nudges_t.c.kind == "meeting")
        return set((await conn.execute(stmt)).scalars())


async def look_again(app: App, cohort_id: int, since: dt.datetime) -> None:
    """Make the scheduler look at the cohort again from `since` (as after a restart)."""
    async with app.db.begin() as conn:
        await conn.execute(
            update(cohorts_t).where(cohorts_t.c.id == cohort_id).values(next_tick_at=since)
        )


async def test_a_pruned_meeting_reminder_is_not_sent_again(app: App) -> None:
    cohort_id = await make_cohort(app, meeting_day="rabu")
    await participant(app, cohort_id, "siti")
    # Tuesday 19:00 and Wednesday 07:00 in Jakarta: the two reminders of the meeting.
    while app.clock.now() < dt.datetime(2027, 1, 6, 1, 0, tzinfo=dt.UTC):
        await app.advance_clock(HOUR)
    sent = await meeting_rows(app)
    first = await meeting_keys(app)
    assert len(sent) == 2 and len(first) == 2

    # Within the scheduler's late window, even a too-short period prunes nothing it
    # may look for again: looking again sends nothing twice (and does not fail).
    short = Periods(nudges=dt.timedelta(minutes=30), scheduler_lookback=2 * DAY)
    report = await retention.run(app.db, app.clock.now(), short)
    assert report.steps["nudges"].rows == 0
    await look_again(app, cohort_id, app.clock.now() - 2 * HOUR)
    await app.advance_clock(dt.timedelta(minutes=1))
    assert await meeting_rows(app) == sent

    # 95 days on, the records of those reminders are pruned; the scheduler, looking at
    # the cohort again, does not send them again.
    now = await app.advance_clock(95 * DAY)
    report = await retention.run(app.db, now, Periods())
    assert report.steps["nudges"].rows >= 2
    assert not (await meeting_keys(app)) & first
    before = await meeting_rows(app)
    await look_again(app, cohort_id, now - 3 * DAY)
    await app.advance_clock(dt.timedelta(minutes=1))
    after = await meeting_rows(app)
    assert [k for k in after if k.startswith(tuple(first))] == sent
    assert set(before) <= set(after)


async def test_a_participants_own_nudges_are_kept(app: App) -> None:
    cohort_id = await make_cohort(app)
    person_id = await participant(app, cohort_id, "siti")
    async with app.db.begin() as conn:
        await conn.execute(
            insert(nudges_t).values(
                key=f"reminder1:w2:p{person_id}",
                person_id=person_id,
                cohort_id=cohort_id,
                kind="reminder",
                week=2,
                due_at=app.clock.now(),
                created_at=app.clock.now(),
                status="queued",
            )
        )
    report = await retention.run(app.db, app.clock.now() + 400 * DAY, Periods())
    assert report.steps["nudges"].rows == 0
    async with app.db.begin() as conn:
        kept = (await conn.execute(select(nudges_t.c.key))).scalars().all()
    assert f"reminder1:w2:p{person_id}" in kept
