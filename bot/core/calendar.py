"""A cohort's calendar as the pure rules of flows/pacing.py take it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from flows import pacing
from flows.pacing import Calendar


def calendar_of(row: Row[Any]) -> Calendar:
    """A cohort row (or a session row carrying its cohort's columns) as a Calendar."""
    meeting_day = getattr(row, "meeting_day", None)
    meeting_time = getattr(row, "meeting_time", None)
    return Calendar(
        start=row.start_date,
        timezone=row.timezone,
        quiet_start=pacing.parse_time(row.quiet_start or "21:00"),
        quiet_end=pacing.parse_time(row.quiet_end or "06:00"),
        meeting_day=pacing.day_index(meeting_day),
        meeting_at=pacing.parse_time(meeting_time) if meeting_time else None,
    )
