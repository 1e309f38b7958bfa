"""How a participant stands: the one rule every staff view sorts people by."""

from __future__ import annotations

import datetime as dt

from flows.standing import (
    BEHIND,
    ON_TRACK,
    OPTED_OUT,
    SILENT,
    UNREACHABLE,
    needs_visit,
    standing,
)

NOW = dt.datetime(2027, 2, 1, 5, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_someone_on_the_calendars_week_is_on_track() -> None:
    # Calendar week 5: they finished 4 and are on the 5th, active yesterday.
    assert standing(weeks_done=4, calendar_week=5, last_active=NOW - DAY, now=NOW) == ON_TRACK


def test_a_week_behind_the_calendar_is_behind() -> None:
    assert standing(weeks_done=3, calendar_week=5, last_active=NOW - DAY, now=NOW) == BEHIND
    assert needs_visit(BEHIND)


def test_seven_days_without_a_word_while_work_is_open_is_silent() -> None:
    seen = NOW - 7 * DAY
    assert standing(weeks_done=4, calendar_week=5, last_active=seen, now=NOW) == SILENT
    assert standing(weeks_done=4, calendar_week=5, last_active=seen + DAY, now=NOW) == ON_TRACK
    # Never written at all (pre-registered, say) counts as silent once a week is open.
    assert standing(weeks_done=0, calendar_week=1, last_active=None, now=NOW) == SILENT


def test_quiet_after_finishing_every_open_week_is_not_silent() -> None:
    # Nothing is owed: done with week 5 while the calendar is on week 5.
    seen = NOW - 10 * DAY
    assert standing(weeks_done=5, calendar_week=5, last_active=seen, now=NOW) == ON_TRACK


def test_opting_out_and_unreachable_come_first() -> None:
    seen = NOW - 30 * DAY
    kwargs = {"weeks_done": 0, "calendar_week": 9, "last_active": seen, "now": NOW}
    assert standing(**kwargs, opted_out=True, unreachable=True) == OPTED_OUT  # type: ignore[arg-type]
    assert standing(**kwargs, unreachable=True) == UNREACHABLE  # type: ignore[arg-type]
    assert needs_visit(UNREACHABLE) and not needs_visit(OPTED_OUT) and not needs_visit(ON_TRACK)
