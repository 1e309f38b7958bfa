"""The cohort calendar: unlock times per time zone, quiet hours, the silence ladder."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.pacing import (
    ALERT,
    DIGEST,
    HOLIDAY_CHECK,
    MEETING,
    PAUSE,
    REMINDER,
    UNLOCK,
    Calendar,
    Pause,
    PauseError,
    Schedule,
    ScheduleError,
    calendar_week,
    check_pause,
    cohort_events,
    may_start,
    next_allowed,
    next_event_at,
    next_open,
    programme_week,
    silence,
    unlock_at,
)
from flows.standing import ON_TRACK, standing

S = Schedule()
MONDAY = dt.date(2027, 1, 4)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("zone", "week", "expected_utc"),
    [
        ("Asia/Jakarta", 1, utc(2027, 1, 4, 0, 0)),  # 07:00 WIB = 00:00 UTC
        ("Asia/Makassar", 1, utc(2027, 1, 3, 23, 0)),  # 07:00 WITA = 23:00 UTC the day before
        ("Asia/Jayapura", 1, utc(2027, 1, 3, 22, 0)),  # 07:00 WIT = 22:00 UTC the day before
        ("Asia/Jakarta", 2, utc(2027, 1, 11, 0, 0)),
        ("Asia/Jayapura", 16, utc(2027, 4, 18, 22, 0)),  # week 16 opens Monday 19 April
    ],
)
def test_each_week_unlocks_at_seven_in_the_cohorts_own_time_zone(
    zone: str, week: int, expected_utc: dt.datetime
) -> None:
    assert unlock_at(Calendar(MONDAY, zone), week, S) == expected_utc


def test_the_calendar_week_turns_at_the_unlock_hour_not_at_midnight() -> None:
    cal = Calendar(MONDAY, "Asia/Makassar")
    assert calendar_week(cal, utc(2027, 1, 3, 12, 0), S) == 0  # before the start
    assert calendar_week(cal, utc(2027, 1, 3, 22, 59), S) == 0  # 06:59 WITA on day one
    assert calendar_week(cal, utc(2027, 1, 3, 23, 0), S) == 1
    assert calendar_week(cal, utc(2027, 1, 10, 22, 59), S) == 1  # week 2 day, 06:59
    assert calendar_week(cal, utc(2027, 1, 10, 23, 0), S) == 2
    assert calendar_week(cal, utc(2027, 9, 1), S) == 16  # long after: the last week


def test_a_participant_ahead_waits_and_one_behind_catches_up() -> None:
    cal = Calendar(MONDAY, "Asia/Jakarta")
    in_week_2 = utc(2027, 1, 12, 3, 0)
    assert may_start(1, set(), cal, in_week_2, S)  # week 1 opens on joining
    assert may_start(2, {1}, cal, in_week_2, S)
    assert not may_start(3, {1, 2}, cal, in_week_2, S)  # ahead of the calendar: waits
    assert not may_start(2, set(), cal, in_week_2, S)  # week 1 first
    late_joiner_week_9 = utc(2027, 3, 2, 3, 0)
    assert may_start(2, {1}, cal, late_joiner_week_9, S)  # starts at week 1, catches up


@pytest.mark.parametrize(
    ("local_hour", "pushed_to_local"),
    [
        (22, (1, 6)),  # 22:00 → 06:00 next day
        (2, (0, 6)),  # 02:00 → 06:00 the same day
        (20, None),  # not quiet
        (6, None),
    ],
)
def test_quiet_hours_push_a_nudge_to_the_next_allowed_time(
    local_hour: int, pushed_to_local: tuple[int, int] | None
) -> None:
    cal = Calendar(MONDAY, "Asia/Jayapura")
    zone = cal.zone
    when = dt.datetime(2027, 1, 5, local_hour, 30, tzinfo=zone)
    result = next_allowed(cal, when).astimezone(zone)
    if pushed_to_local is None:
        assert result == when
    else:
        days, hour = pushed_to_local
        assert result == dt.datetime(2027, 1, 5 + days, hour, 0, tzinfo=zone)


def test_the_silence_ladder_is_two_days_five_days_then_the_facilitator() -> None:
    cal = Calendar(MONDAY, "Asia/Jakarta")
    since = utc(2027, 1, 5, 3, 0)  # 10:00 WIB
    day = dt.timedelta(days=1)
    assert silence(cal, since, 0, since + 1 * day, S).kind is None
    first = silence(cal, since, 0, since + 2 * day, S)
    assert (first.kind, first.stage) == (REMINDER, 1)
    assert silence(cal, since, 1, since + 4 * day, S).kind is None  # already reminded
    second = silence(cal, since, 1, since + 5 * day, S)
    assert (second.kind, second.stage) == (REMINDER, 2)
    alert = silence(cal, since, 2, since + 7 * day, S)
    assert (alert.kind, alert.stage) == (ALERT, 3)
    assert silence(cal, since, 3, since + 30 * day, S).kind is None  # then nothing more


def test_a_reminder_overdue_by_more_than_a_day_is_replaced_not_sent() -> None:
    cal = Calendar(MONDAY, "Asia/Jakarta")
    since = utc(2027, 1, 5, 3, 0)
    skipped = silence(cal, since, 0, since + dt.timedelta(days=3, hours=2), S)
    assert (skipped.kind, skipped.stage) == (None, 1)  # the first reminder is dropped
    # Down for a week: only the alert goes, not three messages in a burst.
    burst = silence(cal, since, 0, since + dt.timedelta(days=9), S)
    assert (burst.kind, burst.stage) == (ALERT, 3)


def test_a_reminder_that_falls_in_quiet_hours_waits_for_the_morning() -> None:
    cal = Calendar(MONDAY, "Asia/Jakarta")
    since = utc(2027, 1, 5, 15, 0)  # 22:00 WIB: two days later is quiet too
    at_night = since + dt.timedelta(days=2, hours=1)  # 23:00 WIB
    assert silence(cal, since, 0, at_night, S).kind is None
    morning = utc(2027, 1, 7, 23, 0)  # 06:00 WIB
    rung = silence(cal, since, 0, morning, S)
    assert rung.kind == REMINDER and rung.due_at == morning


def test_meeting_reminders_come_the_evening_before_and_the_morning_of() -> None:
    cal = Calendar(MONDAY, "Asia/Makassar", meeting_day=3, meeting_at=dt.time(16, 0))  # Thursday
    events = list(cohort_events(cal, S, utc(2027, 1, 5), utc(2027, 1, 8), "TRITIS"))
    meetings = [(e.detail, e.at.astimezone(cal.zone)) for e in events if e.kind == MEETING]
    assert meetings == [
        ("evening", dt.datetime(2027, 1, 6, 19, 0, tzinfo=cal.zone)),
        ("morning", dt.datetime(2027, 1, 7, 7, 0, tzinfo=cal.zone)),
    ]


def test_a_week_of_events_has_one_unlock_and_one_digest_each_with_its_own_key() -> None:
    cal = Calendar(MONDAY, "Asia/Jakarta")
    events = list(cohort_events(cal, S, utc(2027, 1, 10, 12), utc(2027, 1, 17, 12), "A"))
    kinds = [(e.kind, e.key) for e in events]
    assert kinds == [(UNLOCK, "unlock:A:2"), (DIGEST, "digest:A:2027-01-17")]


def test_next_event_is_found_before_the_start_and_none_after_the_end() -> None:
    cal = Calendar(MONDAY, "Asia/Jakarta")
    assert next_event_at(cal, S, utc(2026, 12, 1)) == utc(2027, 1, 4, 0, 0)
    assert next_event_at(cal, S, utc(2027, 1, 4, 0, 0)) == utc(2027, 1, 10, 11, 0)  # digest
    assert next_event_at(cal, S, utc(2027, 6, 1)) is None


def test_schedule_settings_are_read_and_bad_ones_refused() -> None:
    schedule = Schedule.from_mapping(
        {"unlock": {"at": "08:30"}, "reminders": {"after_days": [1, 3], "alert_after_days": 4}}
    )
    assert schedule.unlock_at == dt.time(8, 30)
    assert [after.days for after, _ in schedule.ladder] == [1, 3, 4]
    assert Schedule.from_mapping({"unlock": {"at": 510}}).unlock_at == dt.time(8, 30)
    with pytest.raises(ScheduleError, match="unknown"):
        Schedule.from_mapping({"nudge": {}})
    with pytest.raises(ScheduleError, match="after the last reminder"):
        Schedule.from_mapping({"reminders": {"after_days": [2, 5], "alert_after_days": 3}})
    with pytest.raises(ScheduleError, match="not a time"):
        Schedule.from_mapping({"digest": {"at": "sore"}})


# --- pauses: the calendar bends to village life -------------------------------------

LEBARAN = Pause(dt.date(2027, 3, 8), dt.date(2027, 3, 21), "Lebaran", 1)


def _with(*pauses: Pause, **kw: object) -> Calendar:
    return Calendar(start=MONDAY, timezone="Asia/Jakarta", pauses=pauses, **kw)  # type: ignore[arg-type]


def test_weeks_after_a_pause_open_its_length_later() -> None:
    plain, paused = _with(), _with(LEBARAN)
    # Week 10 would open on Monday 8 March, the pause's first day: it opens on the 22nd.
    assert unlock_at(plain, 10, S) == utc(2027, 3, 8, 0, 0)
    assert unlock_at(paused, 10, S) == utc(2027, 3, 22, 0, 0)
    assert unlock_at(paused, 9, S) == unlock_at(plain, 9, S)  # before it: unchanged
    assert unlock_at(paused, 16, S) == unlock_at(plain, 16, S) + dt.timedelta(weeks=2)
    assert paused.end == plain.end + dt.timedelta(weeks=2)
    # In the pause the calendar stands on week 9.
    for day in range(8, 22):
        assert calendar_week(paused, utc(2027, 3, day, 5), S) == 9
    assert calendar_week(paused, utc(2027, 3, 22, 5), S) == 10


def test_a_pause_that_starts_mid_week_shifts_only_the_weeks_after() -> None:
    cal = _with(Pause(dt.date(2027, 3, 10), dt.date(2027, 3, 16)))  # Wed to Tue: 7 days
    assert unlock_at(cal, 10, S) == utc(2027, 3, 8, 0, 0)
    assert unlock_at(cal, 11, S) == utc(2027, 3, 22, 0, 0)
    assert programme_week(cal, dt.date(2027, 3, 17)) == 10


def test_nothing_is_sent_in_a_pause_but_its_own_two_messages() -> None:
    cal = _with(LEBARAN, meeting_day=2, meeting_at=dt.time(16, 0))  # Wednesdays
    events = list(cohort_events(cal, S, utc(2027, 3, 1), utc(2027, 3, 28), "C"))
    inside = [e for e in events if cal.paused_at(e.at) is not None]
    assert {(e.kind, e.detail) for e in inside} == {(PAUSE, "start"), (PAUSE, "end")}
    start, end = (e for e in inside)
    assert start.at == utc(2027, 3, 8, 0, 0)  # 07:00 WIB on its first day
    assert end.at == utc(2027, 3, 21, 11, 0)  # 18:00 WIB on its last day
    # The Wednesday meetings of 10 and 17 March are not announced; the 24th's is.
    meetings = sorted({e.meeting_at for e in events if e.kind == MEETING and e.meeting_at})
    assert meetings == [utc(2027, 3, 3, 9), utc(2027, 3, 24, 9)]


def test_a_meeting_on_a_holiday_asks_the_facilitator_instead() -> None:
    holiday = dt.date(2027, 3, 10)
    cal = Calendar(
        start=MONDAY,
        timezone="Asia/Jakarta",
        meeting_day=2,
        meeting_at=dt.time(16, 0),
        holidays=((holiday, "Hari Raya Idul Fitri"),),
    )
    events = list(cohort_events(cal, S, utc(2027, 3, 8), utc(2027, 3, 11), "C"))
    kinds = [(e.kind, e.detail, e.holiday) for e in events if e.kind in (MEETING, HOLIDAY_CHECK)]
    assert kinds == [
        (HOLIDAY_CHECK, "", "Hari Raya Idul Fitri"),  # the evening before, to the facilitator
        # both reminders name the holiday: sent only once they say it happens
        (MEETING, "evening", "Hari Raya Idul Fitri"),
        (MEETING, "morning", "Hari Raya Idul Fitri"),
    ]


@pytest.mark.parametrize(
    ("first", "last", "reason"),
    [
        (dt.date(2027, 3, 21), dt.date(2027, 3, 8), "ends_before_start"),
        (dt.date(2027, 3, 1), dt.date(2027, 4, 30), "too_long"),
        (dt.date(2027, 2, 1), dt.date(2027, 2, 7), "in_the_past"),
        (dt.date(2027, 3, 15), dt.date(2027, 3, 28), "overlaps"),
        (dt.date(2027, 6, 1), dt.date(2027, 6, 7), "after_end"),
    ],
)
def test_a_pause_that_cannot_be_is_refused(first: dt.date, last: dt.date, reason: str) -> None:
    cal = _with(LEBARAN)
    with pytest.raises(PauseError) as refused:
        check_pause(
            Pause(first, last, id=2),
            cal.pauses,
            today=dt.date(2027, 2, 15),
            start=cal.start,
            end=_with().end,
        )
    assert refused.value.reason == reason


def test_eight_weeks_is_the_longest_pause() -> None:
    check_pause(
        Pause(dt.date(2027, 3, 1), dt.date(2027, 4, 25)),
        (),
        today=dt.date(2027, 2, 1),
        start=MONDAY,
        end=_with().end,
    )


@st.composite
def pause_sets(draw: st.DrawFn) -> tuple[Pause, ...]:
    """Up to three pauses inside the programme, in order, none overlapping."""
    pauses: list[Pause] = []
    day = MONDAY + dt.timedelta(days=draw(st.integers(0, 30)))
    for i in range(draw(st.integers(0, 3))):
        length = draw(st.integers(1, 56))
        pauses.append(Pause(day, day + dt.timedelta(days=length - 1), id=i + 1))
        day += dt.timedelta(days=length + draw(st.integers(0, 40)))
        if day >= MONDAY + dt.timedelta(weeks=16):
            break
    return tuple(pauses)


@settings(max_examples=60, deadline=None)
@given(pauses=pause_sets(), meeting_day=st.integers(0, 6))
def test_no_unlock_meeting_or_digest_falls_in_a_pause(
    pauses: tuple[Pause, ...], meeting_day: int
) -> None:
    plain = _with(meeting_day=meeting_day)
    cal = _with(*pauses, meeting_day=meeting_day)
    events = list(cohort_events(cal, S, utc(2027, 1, 1), utc(2028, 6, 1), "C"))
    for event in events:
        if event.kind != PAUSE:
            assert cal.paused_at(event.at) is None, event
    unlocks = [e for e in events if e.kind == UNLOCK]
    before = [e for e in cohort_events(plain, S, utc(2027, 1, 1), utc(2028, 6, 1), "C")]
    assert len(unlocks) == len([e for e in before if e.kind == UNLOCK]) == 16
    assert [e.week for e in unlocks] == list(range(1, 17))  # week order is kept
    assert all(a.at < b.at for a, b in itertools.pairwise(unlocks))
    for week in range(1, 17):  # the calendar agrees with its unlocks
        at = unlock_at(cal, week, S)
        assert calendar_week(cal, at, S) == week
        assert calendar_week(cal, at - dt.timedelta(minutes=1), S) == week - 1


@settings(max_examples=60, deadline=None)
@given(
    pauses=pause_sets(),
    quiet_from=st.integers(0, 24 * 100),
    stage=st.integers(0, 2),
)
def test_no_reminder_or_alert_falls_in_a_pause(
    pauses: tuple[Pause, ...], quiet_from: int, stage: int
) -> None:
    cal = _with(*pauses)
    since = utc(2027, 1, 4, 3) + dt.timedelta(hours=quiet_from)
    now = since
    while now < since + dt.timedelta(weeks=20):
        rung = silence(cal, since, stage, now, S)
        if rung.kind is not None:
            assert cal.paused_at(now) is None
            assert rung.due_at is not None and cal.paused_at(rung.due_at) is None
            stage = rung.stage
        now += dt.timedelta(hours=3)


@settings(max_examples=60, deadline=None)
@given(pauses=pause_sets(), data=st.data())
def test_on_track_before_a_pause_is_on_track_after_it(
    pauses: tuple[Pause, ...], data: st.DataObject
) -> None:
    if not pauses:
        return
    cal = _with(*pauses)
    pause = data.draw(st.sampled_from(pauses))
    before = cal.local(pause.first, dt.time(0, 0)) - dt.timedelta(hours=1)
    done = calendar_week(cal, before, S)  # finished every open week, just now
    assert standing(weeks_done=done, calendar_week=done, last_active=before, now=before) == ON_TRACK
    # The morning after the pause (and every hour of the next day).
    after = next_open(cal, cal.local(pause.last + dt.timedelta(days=1), dt.time(6, 0)))
    for hour in range(0, 24):
        now = after + dt.timedelta(hours=hour)
        assert (
            standing(
                weeks_done=done,
                calendar_week=calendar_week(cal, now, S),
                last_active=before,
                now=now,
                paused=cal.paused_between(before, now),
            )
            == ON_TRACK
        )
