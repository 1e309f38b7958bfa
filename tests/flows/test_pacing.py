"""The cohort calendar: unlock times per time zone, quiet hours, the silence ladder."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.pacing import (
    ALERT,
    DIGEST,
    MEETING,
    REMINDER,
    UNLOCK,
    Calendar,
    Schedule,
    ScheduleError,
    calendar_week,
    cohort_events,
    may_start,
    next_allowed,
    next_event_at,
    silence,
    unlock_at,
)

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
