"""A cohort's calendar as the pure rules of flows/pacing.py take it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Row

from flows import pacing
from flows.pacing import Calendar, Pause


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
