"""Clocks. Nothing reads the wall clock directly: it asks a Clock.

A real channel uses `SystemClock`. The console may use a `SimulatedClock`, whose time
only moves when told (`:clock +2d`) and is kept in the database so that a later run
on the same database goes on from there.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class SimulatedClock:
    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start time")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        if delta < dt.timedelta(0):
            raise ValueError("time only moves forward")
        self._now += delta
        return self._now


_DURATION = re.compile(r"^\+?\s*(\d+)\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> dt.timedelta:
    """'+2d', '+3h', '+30m' as a timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration like +2d, +3h or +30m")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
