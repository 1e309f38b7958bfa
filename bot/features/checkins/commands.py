"""/checkin: meetings, visits and calls, and their follow-ups.

`/checkin [KODE]` opens the dialog (bot/features/checkins/dialog.py); `/checkin riwayat` lists the
last ten in the asker's cohorts; `/checkin ubah [N]` edits number N of that list (the
asker's own, within 24 hours; without N, their latest).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.core.commands import Command
from bot.core.scope import Scope, cohort_in_scope, cohorts_in_scope, not_in_scope, scope_of
from bot.core.turn import Turn
from bot.features.checkins import dialog as checkins
from flows.answers import format_date
from storage import checkin_repo
from storage.repo import ADMIN, FACILITATOR

HISTORY = ("riwayat", "history")
EDIT = ("ubah", "edit")
HISTORY_SIZE = 10
HISTORY_CHUNK = 5


async def _own_cohorts(turn: Turn, scope: Scope) -> list[Any]:
    """The cohorts the asker logs for: a facilitator's own; an admin's, every one."""
    rows = await cohorts_in_scope(turn.conn, scope)
    return [r for r in rows if scope.admin or r.id in scope.cohort_ids]


async def checkin(turn: Turn, args: str) -> None:
    words = args.split()
    head = words[0].lower() if words else ""
    scope = await scope_of(turn.conn, turn.person_id)
    if head in HISTORY:
        await history(turn, scope)
        return
    if head in EDIT:
        await edit(turn, scope, words[1:])
        return
    if head:
        cohort = await cohort_in_scope(turn.conn, scope, args)
        if cohort is None or not (scope.admin or cohort.id in scope.cohort_ids):
            await not_in_scope(turn, args)
            return
        await checkins.start(turn, cohort)
        return
    mine = await _own_cohorts(turn, scope)
    if not mine:
        await turn.say("checkin.no_cohort")
    elif len(mine) == 1:
        await checkins.start(turn, mine[0])
    else:
        await checkins.choose_cohort(turn, mine)


async def _recent(turn: Turn, scope: Scope) -> list[Any]:
    cohort_ids = [c.id for c in await _own_cohorts(turn, scope)]
    return list(
        await checkin_repo.recent_checkins(turn.conn, cohort_ids=cohort_ids, limit=HISTORY_SIZE)
    )


async def history(turn: Turn, scope: Scope) -> None:
    rows = await _recent(turn, scope)
    if not rows:
        await turn.say("checkin.history_empty")
        return
    entries = []
    for n, row in enumerate(rows, start=1):
        local = row.at.astimezone(ZoneInfo(row.timezone))
        entries.append(
            {
                "n": n,
                "date": format_date(local.date(), turn.locale),
                "time": local.strftime("%H.%M"),
                "kind_label": checkins.label(turn, f"kinds.{row.kind}"),
                "cohort_code": row.cohort_code,
                "by": row.facilitator_name or "?",
                "participant": row.participant_name or "",
                "present": len(row.attendance or []) if row.kind == checkin_repo.MEETING else None,
                "rating": row.rating,
                "follow_up": format_date(row.follow_up_on, turn.locale) if row.follow_up_on else "",
                "note": _short(row.note or "", 80),
                "editable": row.facilitator_id == turn.person_id
                and turn.now - row.created_at <= checkins.EDITABLE_FOR,
            }
        )
    hint = any(e["editable"] for e in entries)
    for start in range(0, len(entries), HISTORY_CHUNK):  # short messages, five logs each
        last = start + HISTORY_CHUNK >= len(entries)
        await turn.say(
            "checkin.history",
            {
                "entries": entries[start : start + HISTORY_CHUNK],
                "first": start == 0,
                "hint": hint and last,
            },
        )


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def edit(turn: Turn, scope: Scope, words: list[str]) -> None:
    rows = await _recent(turn, scope)
    if not words:
        own = [
            (n, r)
            for n, r in enumerate(rows, start=1)
            if r.facilitator_id == turn.person_id
            and turn.now - r.created_at <= checkins.EDITABLE_FOR
        ]
        if not own:
            await turn.say("checkin.edit_none")
            return
        await checkins.open_edit(turn, own[0][1], own[0][0])
        return
    if not words[0].isdigit() or not 1 <= int(words[0]) <= len(rows):
        await turn.say("checkin.edit_bad_number", {"given": words[0][:10]})
        return
    number = int(words[0])
    row = rows[number - 1]
    if row.facilitator_id != turn.person_id:
        await turn.say("checkin.edit_not_yours", {"by": row.facilitator_name or "?"})
        return
    if turn.now - row.created_at > checkins.EDITABLE_FOR:
        await turn.say("checkin.edit_too_late")
        return
    await checkins.open_edit(turn, row, number)


COMMANDS: tuple[Command, ...] = (Command("checkin", (), checkin, (FACILITATOR, ADMIN)),)
