"""A cohort's calendar as the pure rules of flows/pacing.py take it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Row

from content.holidays import Holidays
from flows import pacing
from flows.answers import format_date
from flows.pacing import Calendar, Pause

# How far past its start a cohort's holidays are looked up: 16 weeks and room for pauses.
_HOLIDAY_SPAN = dt.timedelta(weeks=pacing.WEEKS + 3 * 8)


def pauses_of(stored: Sequence[Mapping[str, Any]] | None) -> tuple[Pause, ...]:
    """The pauses kept in `cohorts.pauses` ({"id", "first", "last", "reason"})."""
    return tuple(
        sorted(
            Pause(
                dt.date.fromisoformat(str(p["first"])),
                dt.date.fromisoformat(str(p["last"])),
                str(p.get("reason") or ""),
                int(p.get("id") or 0),
            )
            for p in stored or ()
        )
    )


def stored_pauses(pauses: Iterable[Pause]) -> list[dict[str, Any]] | None:
    """The pauses as `cohorts.pauses` keeps them (None for none)."""
    kept = [
        {"id": p.id, "first": p.first.isoformat(), "last": p.last.isoformat(), "reason": p.reason}
        for p in sorted(pauses)
    ]
    return kept or None


def calendar_of(row: Row[Any], holidays: Iterable[tuple[dt.date, str]] = ()) -> Calendar:
    """A cohort row (or a session row carrying its cohort's columns) as a Calendar.

    `holidays` matter only to meeting reminders (the scheduler passes them); the row's
    pauses matter to everything that reads the calendar, so every query whose rows come
    here selects `cohorts.pauses`.
    """
    meeting_day = getattr(row, "meeting_day", None)
    meeting_time = getattr(row, "meeting_time", None)
    return Calendar(
        start=row.start_date,
        timezone=row.timezone,
        quiet_start=pacing.parse_time(row.quiet_start or "21:00"),
        quiet_end=pacing.parse_time(row.quiet_end or "06:00"),
        meeting_day=pacing.day_index(meeting_day),
        meeting_at=pacing.parse_time(meeting_time) if meeting_time else None,
        pauses=pauses_of(row.pauses),
        holidays=tuple(sorted(holidays)),
    )


def meeting_holidays(
    row: Row[Any], national: Holidays, local: Iterable[Row[Any]], locale: str
) -> list[tuple[dt.date, str]]:
    """The holidays that fall on the cohort's meeting day (national ones, its region's and
    its own, from `storage.calendar_repo.local_holidays`), named in `locale`.

    Only those: the calendars of cohorts that differ by a holiday on another weekday stay
    one calendar, which the scheduler works out once.
    """
    weekday = pacing.day_index(getattr(row, "meeting_day", None))
    if weekday is None:
        return []
    first, last = row.start_date, row.start_date + _HOLIDAY_SPAN
    found = {
        h.day: h.name.get(locale) or h.name["id"]
        for h in national.between(first, last)
        if h.day.weekday() == weekday
    }
    region = str(getattr(row, "region", "") or "")
    for h in local:
        if h.cohort_id is not None:
            mine = h.cohort_id == row.id
        else:
            mine = not h.region or region == h.region or region.startswith(h.region + "/")
        if mine and first <= h.day <= last and h.day.weekday() == weekday:
            found.setdefault(h.day, h.name)
    return sorted(found.items())


def paused_since(cal: Calendar, since: dt.datetime | None, now: dt.datetime) -> dt.timedelta:
    """How long the cohort was paused since someone last wrote (none when they never
    did): what `flows.standing.standing` must not count as silence."""
    return cal.paused_between(since, now) if since is not None else dt.timedelta(0)


def pause_now(cal: Calendar, now: dt.datetime, locale: str) -> dict[str, str] | None:
    """The pause under way at `now`, as a message's values ({reason, from_date, to_date})."""
    pause = cal.paused_at(now)
    if pause is None:
        return None
    return {
        "reason": pause.reason,
        "from_date": format_date(pause.first, locale),
        "to_date": format_date(pause.last, locale),
    }
