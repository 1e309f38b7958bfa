"""/jeda (/pause) and /pertemuan (/meeting): the cohort's calendar for its facilitator.

`/jeda [KODE] [hari-hari]` opens the pause dialog (bot/features/calendar/dialog.py).
`/pertemuan jadi|libur [KODE]` answers the bot's question the evening before a meeting
that falls on a holiday: whether it still happens (then the participants are reminded
that morning) or not (then nobody is).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.core.calendar import calendar_of, meeting_holidays
from bot.core.commands import Command
from bot.core.scope import Scope, cohort_in_scope, cohorts_in_scope, not_in_scope, scope_of
from bot.core.turn import Turn
from bot.features.calendar import dialog as pause_dialog
from bot.features.calendar.pauses import today_of
from flows.answers import format_date
from storage import calendar_repo
from storage.repo import ADMIN, FACILITATOR

HELD = frozenset({"jadi", "ya", "tetap", "on", "yes", "held"})
OFF = frozenset({"libur", "tidak", "batal", "off", "no", "cancel", "cancelled"})
LOOK_AHEAD = dt.timedelta(days=8)


async def _own_cohorts(turn: Turn, scope: Scope) -> list[Any]:
    rows = await cohorts_in_scope(turn.conn, scope)
    return [r for r in rows if scope.admin or r.id in scope.cohort_ids]


def _names_cohort(word: str) -> bool:
    """Whether a first word is a cohort's code (TRITIS-01, A1), not the start of a span."""
    return bool(_CODE.match(word)) and word.lower() not in _SPAN_WORDS


_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,31}$")
_SPAN_WORDS = frozenset({"mulai", "dari", "sejak", "from", "starting", "besok", "lusa"})


async def _which(turn: Turn, scope: Scope, words: list[str]) -> tuple[Any | None, list[str], bool]:
    """The cohort the first word names (a code), else the asker's only one; and whether
    a code was given that is not theirs (then say so, as for one that does not exist)."""
    if words and _names_cohort(words[0]):
        cohort = await cohort_in_scope(turn.conn, scope, words[0])
        if cohort is not None and (scope.admin or cohort.id in scope.cohort_ids):
            return cohort, words[1:], False
        return None, words, True
    mine = await _own_cohorts(turn, scope)
    return (mine[0] if len(mine) == 1 else None), words, False


async def jeda(turn: Turn, args: str) -> None:
    scope = await scope_of(turn.conn, turn.person_id)
    words = args.split()
    cohort, rest, foreign = await _which(turn, scope, words)
    if foreign:
        await not_in_scope(turn, words[0])
    elif cohort is not None:
        await pause_dialog.start(turn, cohort, " ".join(rest))
    elif not await _own_cohorts(turn, scope):
        await turn.say("jeda.no_cohort")
    else:
        await pause_dialog.choose_cohort(turn, await _own_cohorts(turn, scope))


async def pertemuan(turn: Turn, args: str) -> None:
    words = [w.lower() for w in args.split()]
    answer = next((w for w in words if w in HELD or w in OFF), None)
    scope = await scope_of(turn.conn, turn.person_id)
    named = [w for w in args.split() if w.lower() != answer]
    cohort, _rest, foreign = await _which(turn, scope, named)
    if foreign:
        await not_in_scope(turn, named[0])
        return
    if answer is None or cohort is None:
        await turn.say("jeda.meeting_usage", {"several": cohort is None and answer is not None})
        return
    local = await calendar_repo.local_holidays(turn.conn)
    cal = calendar_of(cohort, meeting_holidays(cohort, turn.content.holidays, local, turn.locale))
    today = today_of(cohort, turn.now)
    day = next(
        (
            d
            for d, _name in cal.holidays
            if today <= d <= today + LOOK_AHEAD and cal.pause_on(d) is None
        ),
        None,
    )
    if day is None:
        await turn.say("jeda.no_holiday_meeting", {"cohort_code": cohort.code})
        return
    held = answer in HELD
    await calendar_repo.decide_meeting(
        turn.conn, cohort_id=cohort.id, day=day, held=held, person_id=turn.person_id, now=turn.now
    )
    await turn.say(
        "jeda.meeting_held" if held else "jeda.meeting_off",
        {
            "cohort_code": cohort.code,
            "date": format_date(day, turn.locale),
            "holiday": cal.holiday(day) or "",
        },
    )


COMMANDS: tuple[Command, ...] = (
    Command("jeda", ("pause",), jeda, (FACILITATOR, ADMIN)),
    Command("pertemuan", ("meeting",), pertemuan, (FACILITATOR, ADMIN)),
)
