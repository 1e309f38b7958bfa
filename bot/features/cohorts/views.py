"""Facilitator views: /kelompok (the roster), /tertinggal (who needs a
visit, and why).

A facilitator sees their own cohorts (the one they have is the default); a coordinator
may look at a cohort of their region by its code (read-only); an admin at any.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.core.calendar import calendar_of, pause_now, paused_since
from bot.core.commands import Command
from bot.core.messages import OutboundMessage
from bot.core.scope import Scope, cohort_in_scope, cohorts_in_scope, not_in_scope, scope_of
from bot.core.turn import Turn
from flows import pacing, standing
from storage import roster as roster_store
from storage.repo import ADMIN, COORDINATOR, FACILITATOR

LAST_WEEK = pacing.WEEKS
LIST_COHORTS = 20  # cohort codes offered when the asker must pick one


async def _cohort(turn: Turn, scope: Scope, args: str, command: str) -> Any | None:
    """The cohort a view is about, or None after saying why (not theirs, or which one)."""
    code = args.strip().split()[0] if args.strip() else ""
    if code:
        cohort = await cohort_in_scope(turn.conn, scope, code)
        if cohort is None:
            await not_in_scope(turn, code)
        return cohort
    rows = await cohorts_in_scope(turn.conn, scope)
    own = [r for r in rows if r.id in scope.cohort_ids]
    if len(own) == 1:
        return own[0]
    choices = own or list(rows)
    if not choices:
        await turn.say("checkin.no_cohort")
        return None
    if len(choices) == 1:
        return choices[0]
    await turn.say(
        "checkin.which_cohort",
        {
            "command": command,
            "codes": [f"{c.code} – {c.name}" for c in choices[:LIST_COHORTS]],
            "more": max(0, len(choices) - LIST_COHORTS),
        },
    )
    return None


def _on_week(entry: roster_store.RosterEntry) -> int:
    """The week someone is on: the open one, else the one after the last finished."""
    if entry.open_week:
        return int(entry.open_week)
    return min(entry.top_week + 1, LAST_WEEK)


def _days(now: dt.datetime, then: dt.datetime | None) -> int | None:
    return None if then is None else max(0, (now - then).days)


async def _standings(
    turn: Turn, cohort: Any
) -> tuple[int, list[tuple[roster_store.RosterEntry, str]]]:
    cal = calendar_of(cohort)
    week = pacing.calendar_week(cal, turn.now, turn.content.program.schedule)
    entries = await roster_store.roster(turn.conn, cohort_ids=[cohort.id])
    return week, [
        (
            e,
            standing.standing(
                weeks_done=e.weeks_done,
                calendar_week=week,
                last_active=e.last_active,
                now=turn.now,
                opted_out=e.opted_out,
                unreachable=e.unreachable,
                paused=paused_since(cal, e.last_active, turn.now),
            ),
        )
        for e in entries
    ]


async def _say_list(
    turn: Turn, key: str, params: dict[str, Any], name: str, items: Sequence[Any]
) -> None:
    """Say `key` with the list `items`, split over as many messages as the channel needs."""
    renderer, locale = turn.content.renderer, turn.locale
    context = {**await turn.context(renderer.names(key, locale)), **params}
    limit = turn.capabilities.max_text
    chunks: list[Sequence[Any]] = [items]
    while True:
        texts = [
            renderer.render(
                key,
                locale,
                {**context, name: chunk, "first": i == 0, "last": i == len(chunks) - 1},
                turn.capabilities.markup,
            )
            for i, chunk in enumerate(chunks)
        ]
        if all(len(t) <= limit for t in texts) or max(len(c) for c in chunks) <= 1:
            break
        size = max(1, (max(len(c) for c in chunks) + 1) // 2)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
    turn.outgoing.extend(OutboundMessage(text=t) for t in texts)


async def roster(turn: Turn, args: str) -> None:
    """/kelompok [KODE]: each participant's week, last activity and standing."""
    scope = await scope_of(turn.conn, turn.person_id)
    cohort = await _cohort(turn, scope, args, "/kelompok")
    if cohort is None:
        return
    week, rows = await _standings(turn, cohort)
    people = [
        {
            "name": e.name or "?",
            "week": _on_week(e),
            "done": e.weeks_done,
            "days": _days(turn.now, e.last_active),
            "status": status,
        }
        for e, status in rows
    ]
    counts = {s: sum(1 for _e, st in rows if st == s) for s in standing.ORDER}
    await _say_list(
        turn,
        "checkin.roster",
        {
            "cohort_code": cohort.code,
            "cohort_label": cohort.name,
            "calendar_week": week,
            "tally": counts,
            "count": len(people),
            "pause": pause_now(calendar_of(cohort), turn.now, turn.locale),
        },
        "people",
        people,
    )


def _urgency(item: tuple[roster_store.RosterEntry, str], week: int, now: dt.datetime) -> Any:
    entry, status = item
    silent = _days(now, entry.last_active)
    return (
        standing.ORDER.index(status),
        -(silent if silent is not None else 10_000),
        -(week - entry.weeks_done),
        (entry.name or "").lower(),
    )


async def behind(turn: Turn, args: str) -> None:
    """/tertinggal [KODE]: who needs a visit, most urgent first, each with why."""
    scope = await scope_of(turn.conn, turn.person_id)
    cohort = await _cohort(turn, scope, args, "/tertinggal")
    if cohort is None:
        return
    week, rows = await _standings(turn, cohort)
    wanted = sorted(
        (r for r in rows if standing.needs_visit(r[1])), key=lambda r: _urgency(r, week, turn.now)
    )
    people = [
        {
            "name": e.name or "?",
            "status": status,
            "week": _on_week(e),
            "gap": max(0, week - _on_week(e)),
            "days": _days(turn.now, e.last_active),
        }
        for e, status in wanted
    ]
    await _say_list(
        turn,
        "checkin.behind",
        {
            "cohort_code": cohort.code,
            "calendar_week": week,
            "count": len(people),
            "pause": pause_now(calendar_of(cohort), turn.now, turn.locale),
        },
        "people",
        people,
    )


COMMANDS: tuple[Command, ...] = (
    Command("kelompok", ("cohort",), roster, (FACILITATOR, COORDINATOR, ADMIN)),
    Command("tertinggal", ("behind",), behind, (FACILITATOR, COORDINATOR, ADMIN)),
)
