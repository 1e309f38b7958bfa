"""How a participant stands: on track, behind, silent, unreachable or opted out. Pure.

One definition for every view that sorts people (the roster, who needs a visit, a
broadcast to those behind schedule, the coordinator's progress): the first that applies
wins, in the order below.
"""

from __future__ import annotations

import datetime as dt

OPTED_OUT, UNREACHABLE, SILENT, BEHIND, ON_TRACK = (
    "opted_out",
    "unreachable",
    "silent",
    "behind",
    "on_track",
)
ORDER = (OPTED_OUT, UNREACHABLE, SILENT, BEHIND, ON_TRACK)
SILENT_AFTER = dt.timedelta(days=7)  # the silence ladder's alert (program.yaml schedule)


def standing(
    *,
    weeks_done: int,
    calendar_week: int,
    last_active: dt.datetime | None,
    now: dt.datetime,
    opted_out: bool = False,
    unreachable: bool = False,
    silent_after: dt.timedelta = SILENT_AFTER,
    paused: dt.timedelta = dt.timedelta(0),
) -> str:
    """Where someone stands.

    - opted out: they sent BERHENTI/STOP;
    - unreachable: the channel refused our messages (blocked, number gone);
    - silent: nothing from them for `silent_after` (7 days), while the calendar has a
      week open that they have not finished; time the cohort spent paused since they
      last wrote (`paused`, Calendar.paused_between) is not silence;
    - behind: the week they work on is older than the calendar's open week (the same
      test as the facilitator's digest: weeks done + 1 < calendar week);
    - on track: otherwise (including someone ahead, or who finished everything).
    """
    if opted_out:
        return OPTED_OUT
    if unreachable:
        return UNREACHABLE
    owes_work = weeks_done < calendar_week
    if owes_work and (last_active is None or now - last_active - paused >= silent_after):
        return SILENT
    if weeks_done + 1 < calendar_week:
        return BEHIND
    return ON_TRACK


def needs_visit(status: str) -> bool:
    """Whether a facilitator should go and see them (the /tertinggal list)."""
    return status in (SILENT, BEHIND, UNREACHABLE)
