"""The scheduler on the simulated clock: unlocks, the silence ladder, meetings, digests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.core.calendar import stored_pauses
from content.loader import Content
from flows.pacing import Pause
from storage import calendar_repo
from tests.support.scheduling import (
    cohort,
    content_with_all_weeks,
    open_test_app,
    outbox,
    participant,
)
from tests.support.world import chat

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
# Tuesday 5 January 2027, 03:00 UTC: week 1 of a cohort that started Monday the 4th.
TUESDAY = dt.datetime(2027, 1, 5, 3, 0, tzinfo=dt.UTC)

_CONTENT: Content | None = None


@pytest.fixture
def weeks_content(tmp_path_factory: pytest.TempPathFactory) -> Content:
    global _CONTENT
    if _CONTENT is None:
        _CONTENT = content_with_all_weeks(Path(tmp_path_factory.mktemp("content")) / "content")
    return _CONTENT


@pytest.fixture
async def sched_app(db_url: str, weeks_content: Content) -> AsyncIterator[App]:
    app = await open_test_app(db_url, weeks_content, TUESDAY)
    try:
        yield app
    finally:
        await app.close()


async def session_of(app: App, address: str) -> tuple[str, dict[str, object]] | None:
    """(flow, state) of the open session of the console user `address`, if any."""
    from sqlalchemy import select

    from storage.repo import contacts, sessions

    async with app.db.connect() as conn:
        row = (
            await conn.execute(
                select(sessions.c.flow, sessions.c.state)
                .join(contacts, contacts.c.person_id == sessions.c.person_id)
                .where(contacts.c.address == address)
            )
        ).first()
    return (row.flow, dict(row.state)) if row else None


async def run_until(app: App, until: dt.datetime, step: dt.timedelta = HOUR) -> None:
    while app.clock.now() < until:
        await app.advance_clock(min(step, until - app.clock.now()))


@pytest.mark.parametrize(
    ("zone", "unlock_utc"),
    [
        ("Asia/Jakarta", dt.datetime(2027, 1, 11, 0, 0, tzinfo=dt.UTC)),
        ("Asia/Makassar", dt.datetime(2027, 1, 10, 23, 0, tzinfo=dt.UTC)),
        ("Asia/Jayapura", dt.datetime(2027, 1, 10, 22, 0, tzinfo=dt.UTC)),
    ],
)
async def test_week_two_opens_at_seven_local_and_the_next_message_starts_it(
    sched_app: App, zone: str, unlock_utc: dt.datetime
) -> None:
    app = sched_app
    cohort_id = await cohort(app, timezone=zone)
    await participant(app, cohort_id, "siti", goal="Membuka warung kopi")
    await run_until(app, unlock_utc - dt.timedelta(minutes=1), step=6 * HOUR)
    assert [m for m in await outbox(app) if m[0] == "unlock"] == []

    await app.advance_clock(dt.timedelta(minutes=1))
    unlocks = [m for m in await outbox(app) if m[0] == "unlock"]
    assert len(unlocks) == 1
    _kind, address, text, created = unlocks[0]
    assert address == "siti" and created == unlock_utc
    assert created.astimezone(ZoneInfo(zone)).hour == 7
    assert "Minggu 2 sudah dibuka" in text
    assert '"Membuka warung kopi"' in text  # their own goal
    assert "Bu Ani" in text  # signed by the facilitator

    assert await session_of(app, "siti") == ("week02", {"pending_start": True})
    answer = await chat(app, "siti", "halo")
    flow, state = await session_of(app, "siti")
    assert flow == "week02" and "pending_start" not in state  # the week has begun
    assert answer.startswith("→ siti: ") and "sudah dibuka" not in answer


async def test_someone_ahead_of_the_calendar_waits_and_is_told_when_the_week_opens(
    sched_app: App,
) -> None:
    app = sched_app
    cohort_id = await cohort(app)
    await participant(app, cohort_id, "rudi")
    answer = await chat(app, "rudi", "halo")
    assert "Minggu 2" in answer and "belum dibuka" in answer
    assert "Senin, 11 Januari 2027, 07.00" in answer


async def test_someone_behind_gets_no_unlock_but_catches_up_at_their_own_pace(
    sched_app: App,
) -> None:
    app = sched_app
    cohort_id = await cohort(app, start=dt.date(2026, 12, 7))  # already in week 5
    await participant(app, cohort_id, "agus", done=1)  # joined late: only week 1 done
    await run_until(app, TUESDAY + 8 * DAY, step=6 * HOUR)  # week 6 opens on the way
    assert [m for m in await outbox(app) if m[0] == "unlock"] == []
    await chat(app, "agus", "halo")
    assert await session_of(app, "agus") == ("week02", {"errors": 0, "done": False})  # begun


async def test_silence_gets_a_reminder_at_two_days_another_at_five_then_the_facilitator(
    sched_app: App,
) -> None:
    app = sched_app
    cohort_id = await cohort(app)
    await participant(app, cohort_id, "dewi", goal="Bantu biaya sekolah adik")
    await run_until(app, dt.datetime(2027, 1, 11, 0, 0, tzinfo=dt.UTC))  # week 2 opens
    await chat(app, "dewi", "halo")  # starts week 2 at 07:00 WIB, then goes quiet
    quiet_since = app.clock.now()
    await run_until(app, quiet_since + 10 * DAY)

    nudges = [m for m in await outbox(app) if m[0] in ("reminder", "alert")]
    assert [(kind, who) for kind, who, _t, _c in nudges] == [
        ("reminder", "dewi"),
        ("reminder", "dewi"),
        ("alert", "fasil-TRITIS-01"),
    ]
    (_, _, first, at1), (_, _, second, at2), (_, _, alert, at3) = nudges
    assert at1 == quiet_since + 2 * DAY
    assert at2 == quiet_since + 5 * DAY
    assert at3 == quiet_since + 7 * DAY
    assert first != second  # a second, different reminder
    assert '"Bantu biaya sekolah adik"' in first and "Bu Ani" in first
    assert "dewi" in alert and "7 hari" in alert and "minggu 2" in alert


async def test_a_reply_stops_the_ladder_and_each_rung_goes_once_a_week(sched_app: App) -> None:
    app = sched_app
    cohort_id = await cohort(app)
    await participant(app, cohort_id, "bayu")
    await run_until(app, dt.datetime(2027, 1, 11, 0, 0, tzinfo=dt.UTC))
    await chat(app, "bayu", "halo")
    await run_until(app, app.clock.now() + 2 * DAY + HOUR)
    assert [m[0] for m in await outbox(app) if m[0] == "reminder"] == ["reminder"]
    await chat(app, "bayu", "maaf kak, ini jawabanku")  # answers the week's question
    reply_at = app.clock.now()
    await run_until(app, reply_at + 4 * DAY)
    # Silent again for four days: the first reminder of this week was sent already.
    assert [m[0] for m in await outbox(app) if m[0] == "reminder"] == ["reminder"]
    await run_until(app, reply_at + 5 * DAY + HOUR)
    reminders = [m for m in await outbox(app) if m[0] == "reminder"]
    assert len(reminders) == 2 and reminders[1][3] == reply_at + 5 * DAY


async def test_a_reminder_due_at_night_waits_for_the_end_of_quiet_hours(sched_app: App) -> None:
    app = sched_app
    cohort_id = await cohort(app)
    await participant(app, cohort_id, "rina")
    await run_until(app, dt.datetime(2027, 1, 11, 15, 0, tzinfo=dt.UTC))  # 22:00 WIB
    await chat(app, "rina", "halo")  # the unlock's session starts at 22:00 local
    await run_until(app, app.clock.now() + 3 * DAY)
    (_, _, _, at), *_ = [m for m in await outbox(app) if m[0] == "reminder"]
    local = at.astimezone(ZoneInfo("Asia/Jakarta"))
    assert (local.day, local.hour) == (14, 6)  # not 22:00 on the 13th: 06:00 on the 14th


async def test_a_long_outage_sends_the_alert_only_not_a_burst_of_old_reminders(
    sched_app: App,
) -> None:
    app = sched_app
    cohort_id = await cohort(app)
    await participant(app, cohort_id, "eka")
    await run_until(app, dt.datetime(2027, 1, 11, 0, 0, tzinfo=dt.UTC))
    await chat(app, "eka", "halo")
    await app.advance_clock(9 * DAY)  # the bot was down for nine days
    kinds = [m[0] for m in await outbox(app) if m[0] in ("reminder", "alert")]
    assert kinds == ["alert"]


async def test_nothing_is_sent_twice_after_a_restart(db_url: str, weeks_content: Content) -> None:
    first = await open_test_app(db_url, weeks_content, TUESDAY)
    cohort_id = await cohort(first)
    for name in ("a1", "a2", "a3"):
        await participant(first, cohort_id, name)
    opened = dt.datetime(2027, 1, 11, 0, 5, tzinfo=dt.UTC)
    await first.advance_clock(opened - first.clock.now())
    before = await outbox(first)
    assert len([m for m in before if m[0] == "unlock"]) == 3
    await first.close()

    again = await open_test_app(db_url, weeks_content, opened)  # a new process, same moment
    try:
        await again.scheduler.tick()
        await again.advance_clock(HOUR)
        assert await outbox(again) == before
    finally:
        await again.close()


async def test_meeting_reminders_the_evening_before_and_the_morning_of(sched_app: App) -> None:
    app = sched_app
    cohort_id = await cohort(app, meeting_day="kamis", meeting_time="16:00")
    await participant(app, cohort_id, "sari")
    await run_until(app, dt.datetime(2027, 1, 7, 12, 0, tzinfo=dt.UTC))  # Thursday 19:00 WIB
    meetings = [m for m in await outbox(app) if m[0] == "meeting"]
    local = [m[3].astimezone(ZoneInfo("Asia/Jakarta")) for m in meetings]
    assert [(t.day, t.hour) for t in local] == [(6, 19), (7, 7)]
    assert "Besok hari Kamis pukul 16.00" in meetings[0][2]
    assert "Hari ini pukul 16.00" in meetings[1][2]


async def test_the_weekly_digest_tells_the_facilitator_who_is_done_behind_or_unreachable(
    sched_app: App,
) -> None:
    app = sched_app
    cohort_id = await cohort(app, start=dt.date(2026, 12, 28))  # in week 2 on the 10th
    await participant(app, cohort_id, "siti", done=2)
    await participant(app, cohort_id, "agus", done=0)
    async with app.db.begin() as conn:
        from storage.repo import contacts

        await conn.execute(
            contacts.update().where(contacts.c.address == "agus").values(unreachable=True)
        )
    await run_until(app, dt.datetime(2027, 1, 10, 11, 0, tzinfo=dt.UTC))  # Sunday 18:00 WIB
    digests = [m for m in await outbox(app) if m[0] == "digest"]
    assert len(digests) == 1
    _, to, text, _ = digests[0]
    assert to == "fasil-TRITIS-01"
    assert "Sudah selesai minggu 2: 1 (siti)" in text
    assert "Tertinggal: 1\n• agus: masih di minggu 1\n" in text  # one line each
    assert "Tidak bisa dihubungi: 1 (agus)" in text


async def test_a_cohort_tick_reads_only_cohorts_whose_moment_has_come(sched_app: App) -> None:
    app = sched_app
    await cohort(app, code="A-01")
    await cohort(app, code="B-01", start=dt.date(2027, 3, 1))
    first = await app.scheduler.tick()
    assert first.cohorts == 2  # new cohorts: their calendars are worked out once
    second = await app.scheduler.tick()
    assert second.cohorts == 0  # nothing due: nothing read


async def test_one_tick_opens_each_cohorts_own_week_for_those_ready_for_it(
    sched_app: App,
) -> None:
    app = sched_app
    first = await cohort(app, code="A-01")  # started Monday 4 January: week 2 opens on the 11th
    second = await cohort(app, code="B-01", start=dt.date(2026, 12, 28))  # week 3 then
    await participant(app, first, "siti", done=1, goal="Warung kopi")  # ready for week 2
    await participant(app, first, "budi", done=2, goal=None)  # done with week 2 already
    await participant(app, second, "rudi", done=2, goal="Jahit baju")  # ready for week 3
    await participant(app, second, "agus", done=1)  # behind: still owes week 2
    await app.scheduler.tick()
    opening = dt.datetime(2027, 1, 11, 0, 0, tzinfo=dt.UTC)  # 07:00 WIB
    app.clock.advance(opening - app.clock.now())

    stats = await app.scheduler.tick()  # both cohorts' moments come in this one tick

    assert stats.cohorts == 2 and stats.sent["unlock"] == 2
    unlocks = {who: text for kind, who, text, _at in await outbox(app) if kind == "unlock"}
    assert set(unlocks) == {"siti", "rudi"}
    assert "Minggu 2 sudah dibuka" in unlocks["siti"] and '"Warung kopi"' in unlocks["siti"]
    assert "Minggu 3 sudah dibuka" in unlocks["rudi"] and '"Jahit baju"' in unlocks["rudi"]
    assert await session_of(app, "siti") == ("week02", {"pending_start": True})
    assert await session_of(app, "rudi") == ("week03", {"pending_start": True})
    assert await session_of(app, "budi") is None and await session_of(app, "agus") is None


async def test_cohorts_taken_in_small_chunks_side_by_side_each_get_their_unlock_once(
    sched_app: App,
) -> None:
    app = sched_app
    app.scheduler.chunk = 2  # seven cohorts: four chunks, taken by two lanes on PostgreSQL
    for i in range(7):
        cohort_id = await cohort(app, code=f"K-{i:02d}")
        await participant(app, cohort_id, f"peserta{i}")
    await app.scheduler.tick()
    app.clock.advance(dt.datetime(2027, 1, 11, 0, 0, tzinfo=dt.UTC) - app.clock.now())

    stats = await app.scheduler.tick()

    assert stats.cohorts == 7 and stats.sent["unlock"] == 7
    unlocks = sorted(who for kind, who, _t, _at in await outbox(app) if kind == "unlock")
    assert unlocks == [f"peserta{i}" for i in range(7)]
    assert (await app.scheduler.tick()).cohorts == 0  # every next moment was moved on


# --- pauses and holidays ---------------------------------------------------------------


async def pause(app: App, cohort_id: int, first: dt.date, last: dt.date, reason: str) -> None:
    async with app.db.begin() as conn:
        await calendar_repo.set_pauses(
            conn,
            cohort_id=cohort_id,
            pauses=stored_pauses([Pause(first, last, reason, 1)]),
            now=app.clock.now(),
        )


def wib(at: dt.datetime) -> tuple[int, int, int]:
    local = at.astimezone(ZoneInfo("Asia/Jakarta"))
    return local.month, local.day, local.hour


async def test_a_pause_holds_the_weeks_meetings_and_digests_and_says_when_it_starts_and_ends(
    sched_app: App,
) -> None:
    app = sched_app
    cohort_id = await cohort(app, meeting_day="kamis", meeting_time="16:00")
    await participant(app, cohort_id, "siti")  # week 1 done, waiting for week 2
    await pause(app, cohort_id, dt.date(2027, 1, 11), dt.date(2027, 1, 24), "Panen")
    await run_until(app, dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC))
    sent = await outbox(app)

    unlocks = [(wib(at), text) for kind, _to, text, at in sent if kind == "unlock"]
    assert [when for when, _ in unlocks] == [(1, 25, 7)]  # two weeks late, not on the 11th
    assert "Minggu 2 sudah dibuka" in unlocks[0][1]

    to_siti = [
        (wib(at), text) for kind, to, text, at in sent if kind == "broadcast" and to == "siti"
    ]
    assert [when for when, _ in to_siti] == [(1, 11, 7), (1, 24, 18)]
    (_, started), (_, ended) = to_siti
    assert "Mulai hari ini Jamaah TRITIS-01 istirahat dulu untuk Panen" in started
    assert "sampai 24 Januari 2027" in started and "Minggu 2 dibuka" in started
    assert "25 Januari 2027" in started and "Bu Ani" in started
    assert "Jeda Panen Jamaah TRITIS-01 selesai hari ini" in ended
    to_facilitator = [
        (wib(at), text) for kind, to, text, at in sent if kind == "broadcast" and to != "siti"
    ]
    assert [when for when, _ in to_facilitator] == [(1, 11, 7), (1, 24, 18)]
    # The facilitator's own version: the participants were told, /jeda changes it; not the
    # participants' note about unfinished tasks, signed with her own name.
    (_, fac_started), (_, fac_ended) = to_facilitator
    assert "Peserta sudah saya kabari" in fac_started and "/jeda TRITIS-01" in fac_started
    assert "Tugas yang belum selesai" not in fac_started and "– Bu Ani" not in fac_started
    assert "peserta sudah saya kabari" in fac_ended and "Minggu 2 dibuka" in fac_ended

    # Meetings on the 14th and 21st fall in the pause: not announced; the 7th and 28th are.
    meetings = [wib(at) for kind, _to, _t, at in sent if kind == "meeting"]
    assert meetings == [(1, 6, 19), (1, 7, 7), (1, 27, 19), (1, 28, 7)]
    # The Sunday digests of the 17th and 24th fall in it too.
    assert [wib(at) for kind, _to, _t, at in sent if kind == "digest"] == [
        (1, 10, 18),
        (1, 31, 18),
    ]


async def test_silence_does_not_count_while_the_cohort_is_paused(sched_app: App) -> None:
    app = sched_app
    cohort_id = await cohort(app)
    await participant(app, cohort_id, "dewi")
    await run_until(app, dt.datetime(2027, 1, 11, 0, 0, tzinfo=dt.UTC))  # week 2 opens
    await chat(app, "dewi", "halo")  # starts week 2 at 07:00 WIB on Monday, then goes quiet
    quiet_since = app.clock.now()
    first, last = dt.date(2027, 1, 13), dt.date(2027, 1, 26)  # Wednesday to Tuesday
    await pause(app, cohort_id, first, last, "Lebaran")
    await run_until(app, quiet_since + 24 * DAY, step=3 * HOUR)

    nudges = [
        (kind, at) for kind, _to, _t, at in await outbox(app) if kind in ("reminder", "alert")
    ]
    length = 14 * DAY
    # The ladder is the same as without a pause, moved on by the paused days: nothing
    # inside the pause, the two-day reminder after it.
    assert nudges == [
        ("reminder", quiet_since + 2 * DAY + length),
        ("reminder", quiet_since + 5 * DAY + length),
        ("alert", quiet_since + 7 * DAY + length),
    ]
    for _kind, at in nudges:
        assert not first <= at.astimezone(ZoneInfo("Asia/Jakarta")).date() <= last


@pytest.mark.parametrize(("answer", "morning"), [("jadi", True), ("libur", False)])
async def test_a_meeting_on_a_holiday_asks_the_facilitator_first(
    sched_app: App, answer: str, morning: bool
) -> None:
    app = sched_app
    cohort_id = await cohort(app, meeting_day="kamis", meeting_time="16:00")
    await participant(app, cohort_id, "sari", done=3)  # ahead: no silence ladder to stop it
    async with app.db.begin() as conn:  # the village's feast falls on a Thursday
        await calendar_repo.add_holiday(
            conn, day=dt.date(2027, 1, 21), name="Sedekah bumi", now=app.clock.now(),
            cohort_id=cohort_id,
        )  # fmt: skip
    await run_until(app, dt.datetime(2027, 1, 20, 13, 0, tzinfo=dt.UTC))  # Wed 20:00 WIB
    sent = await outbox(app)
    to_sari = [wib(at) for kind, to, _t, at in sent if kind == "meeting" and to == "sari"]
    assert to_sari == [(1, 6, 19), (1, 7, 7), (1, 13, 19), (1, 14, 7)]  # not the 20th
    [(to, text, at)] = [(to, text, at) for kind, to, text, at in sent if "hari libur" in text]
    assert to == "fasil-TRITIS-01" and wib(at) == (1, 20, 19)
    assert "Besok, 21 Januari 2027, hari libur: Sedekah bumi" in text
    assert "/pertemuan jadi TRITIS-01" in text

    said = await chat(app, "fasil-TRITIS-01", f"/pertemuan {answer}")
    assert "21 Januari 2027 (Sedekah bumi)" in said
    await run_until(app, dt.datetime(2027, 1, 21, 2, 0, tzinfo=dt.UTC))  # Thu 09:00 WIB
    after = [
        wib(at) for kind, to, _t, at in await outbox(app) if kind == "meeting" and to == "sari"
    ]
    assert ((1, 21, 7) in after) is morning
    assert len(after) == len(to_sari) + (1 if morning else 0)


async def test_a_holiday_meeting_already_decided_is_not_asked_about(sched_app: App) -> None:
    app = sched_app
    cohort_id = await cohort(app, meeting_day="kamis", meeting_time="16:00")
    await participant(app, cohort_id, "sari", done=3)
    async with app.db.begin() as conn:
        await calendar_repo.add_holiday(
            conn, day=dt.date(2027, 1, 21), name="Sedekah bumi", now=app.clock.now(),
            cohort_id=cohort_id,
        )  # fmt: skip
    await run_until(app, dt.datetime(2027, 1, 19, 2, 0, tzinfo=dt.UTC))  # Tuesday
    said = await chat(app, "fasil-TRITIS-01", "/pertemuan jadi")  # told before being asked
    assert "21 Januari 2027 (Sedekah bumi)" in said
    await run_until(app, dt.datetime(2027, 1, 21, 2, 0, tzinfo=dt.UTC))  # Thu 09:00 WIB

    sent = await outbox(app)
    assert not [text for _k, _to, text, _at in sent if "hari libur" in text]
    to_sari = [wib(at) for kind, to, _t, at in sent if kind == "meeting" and to == "sari"]
    assert to_sari[-2:] == [(1, 20, 19), (1, 21, 7)]  # announced as any other meeting
