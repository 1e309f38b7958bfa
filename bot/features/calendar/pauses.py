"""Planning a change to a cohort's pauses, and making it: the one path for /jeda and for
`jamaah cohort pause`.

A plan is worked out first (what would move: the weeks that open on other days, the
meetings no longer announced) so that the person asking sees it before it is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.calendar import calendar_of, stored_pauses
from content.holidays import Holidays
from flows import pacing
from flows.answers import format_date
from flows.pacing import Calendar, Moves, Pause, Schedule
from storage import calendar_repo, repo

ADD, CHANGE, CANCEL, END = "add", "change", "cancel", "end"
REASON_MAX = 60
SHOWN_WEEKS = 3  # the preview names this many moved weeks, then "and N more"


@dataclass(frozen=True)
class Plan:
    action: str  # add, change, cancel (a pause not yet begun), end (a pause under way)
    cohort_id: int
    code: str
    pause: Pause
    before: Calendar
    after: Calendar
    moves: Moves


def today_of(cohort: Any, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(cohort.timezone)).date()


def _check(cal: Calendar, cohort: Any, pause: Pause, today: dt.date) -> None:
    """`cal` holds the cohort's other pauses: its end is where the programme ends with
    them, so a second pause may fall in the weeks the first one pushed later."""
    pacing.check_pause(pause, cal.pauses, today=today, start=cohort.start_date, end=cal.end)


def plan_pause(
    cohort: Any,
    *,
    first: dt.date,
    last: dt.date,
    reason: str,
    now: dt.datetime,
    schedule: Schedule,
    pause_id: int | None = None,
) -> Plan:
    """A new pause, or pause `pause_id` with new dates; raises pacing.PauseError."""
    before = calendar_of(cohort)
    today = today_of(cohort, now)
    reason = " ".join(reason.split())[:REASON_MAX]
    if pause_id is None:
        pause = Pause(first, last, reason, max((p.id for p in before.pauses), default=0) + 1)
        others = before.pauses
        action = ADD
    else:
        old = _find(before, pause_id)
        begun = old.first <= today
        if begun and first != old.first:
            first = old.first  # a pause under way keeps its first day: it only ends sooner or later
        pause = Pause(first, last, reason or old.reason, old.id)
        others = tuple(p for p in before.pauses if p.id != pause_id)
        action = CHANGE
        if begun:  # under way: it may end sooner or later, not before today
            if last < today:
                raise pacing.PauseError("in_the_past")
            pacing.check_pause(
                pause, others, today=old.first, start=cohort.start_date, end=dt.date.max
            )
            after = replace(before, pauses=(*others, pause))
            return Plan(
                action,
                cohort.id,
                cohort.code,
                pause,
                before,
                after,
                pacing.moves(before, after, schedule, today),
            )
    _check(replace(before, pauses=others), cohort, pause, today)
    after = replace(before, pauses=(*others, pause))
    return Plan(
        action,
        cohort.id,
        cohort.code,
        pause,
        before,
        after,
        pacing.moves(before, after, schedule, today),
    )


def plan_cancel(cohort: Any, *, pause_id: int, now: dt.datetime, schedule: Schedule) -> Plan:
    """Pause `pause_id` undone: removed if it has not begun, ended today if it has."""
    before = calendar_of(cohort)
    today = today_of(cohort, now)
    old = _find(before, pause_id)
    others = tuple(p for p in before.pauses if p.id != pause_id)
    if old.last < today:
        raise pacing.PauseError("over")
    if old.first <= today:
        pause = replace(old, last=today)
        after = replace(before, pauses=(*others, pause))
        action = END
    else:
        pause, after, action = old, replace(before, pauses=others), CANCEL
    return Plan(
        action,
        cohort.id,
        cohort.code,
        pause,
        before,
        after,
        pacing.moves(before, after, schedule, today),
    )


def plan_lebaran(
    cohort: Any, holidays: Holidays, *, now: dt.datetime, schedule: Schedule, reason: str
) -> Plan | None:
    """The Lebaran pause for the cohort (pacing.lebaran_pause around the list's Idul
    Fitri), when one falls inside its programme and can be; else None."""
    cal = calendar_of(cohort)
    for year in range(cohort.start_date.year, cal.end.year + 1):
        days = holidays.idul_fitri(year)
        if not days:
            continue
        suggested = pacing.lebaran_pause(days[0].day, reason)
        try:
            return plan_pause(
                cohort,
                first=suggested.first,
                last=suggested.last,
                reason=reason,
                now=now,
                schedule=schedule,
            )
        except pacing.PauseError:
            continue
    return None


def lebaran_estimated(holidays: Holidays, plan: Plan) -> bool:
    """Whether the Idul Fitri the plan was built around is an estimate, not the SKB's."""
    return any(
        h.estimated
        for h in holidays.between(plan.pause.first, plan.pause.last)
        if h.kind == "idul_fitri"
    )


def _find(cal: Calendar, pause_id: int) -> Pause:
    for pause in cal.pauses:
        if pause.id == pause_id:
            return pause
    raise pacing.PauseError("unknown")


async def apply(conn: AsyncConnection, plan: Plan, *, actor: str, now: dt.datetime) -> None:
    """Keep the plan's pauses and write it in the audit log."""
    await calendar_repo.set_pauses(
        conn, cohort_id=plan.cohort_id, pauses=stored_pauses(plan.after.pauses), now=now
    )
    await repo.audit(
        conn,
        actor=actor,
        action=f"pause.{plan.action}",
        target=f"cohort:{plan.code}",
        details={
            "pause": plan.pause.id,
            "first": plan.pause.first.isoformat(),
            "last": plan.pause.last.isoformat(),
            "reason": plan.pause.reason,
        },
        now=now,
    )


def describe(plan: Plan, locale: str) -> dict[str, Any]:
    """The plan as a message's values (jeda.preview, and the CLI's lines)."""
    moved = [
        {"week": w, "was": format_date(was, locale), "now": format_date(now, locale)}
        for w, was, now in plan.moves.weeks
    ]
    return {
        "action": plan.action,
        "cohort_code": plan.code,
        "reason": plan.pause.reason,
        "from_date": format_date(plan.pause.first, locale),
        "to_date": format_date(plan.pause.last, locale),
        "days": plan.pause.length.days,
        "moved": moved[:SHOWN_WEEKS],
        "more": max(0, len(moved) - SHOWN_WEEKS),
        "skipped": [format_date(d, locale) for d in plan.moves.skipped],
        "restored": [format_date(d, locale) for d in plan.moves.restored],
        "end": format_date(plan.moves.end - dt.timedelta(days=1), locale),
    }


def listed(cal: Calendar, today: dt.date, locale: str) -> list[dict[str, Any]]:
    """The cohort's pauses that are not over, as a message's values."""
    return [
        {
            "id": p.id,
            "reason": p.reason,
            "from_date": format_date(p.first, locale),
            "to_date": format_date(p.last, locale),
            "now": p.first <= today,
        }
        for p in cal.pauses
        if p.last >= today
    ]
