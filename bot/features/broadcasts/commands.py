"""/siaran (/broadcast): facilitator broadcasts and their status.

- `/siaran`: the dialog (bot/features/broadcasts/dialog.py): audience, message, preview, send now
  or at a local time;
- `/siaran KODE`: the same, for that cohort straight away;
- `/siaran status [N]`: the asker's last five broadcasts (or number N) with what
  happened to each message;
- `/siaran batal N` (`/broadcast cancel N`): cancel a scheduled one not yet sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Row

from bot.core.commands import Command
from bot.core.roles import FACILITATORS
from bot.core.scope import cohort_in_scope, cohorts_in_scope, not_in_scope, scope_of
from bot.core.turn import Turn
from bot.features.broadcasts import dialog as broadcasts
from bot.features.broadcasts.dialog import ALL, BEHIND, COHORT
from flows.pacing import DEFAULT_TIMEZONE
from storage import broadcast_repo, repo

MAX_COHORT_BUTTONS = 8  # more cohorts than this (an admin): "/siaran KODE" instead
STATUS_WORDS = frozenset({"status", "laporan"})
CANCEL_WORDS = frozenset({"batal", "cancel", "batalkan"})


async def siaran(turn: Turn, args: str) -> None:
    words = args.split()
    head = words[0].lower() if words else ""
    if head in STATUS_WORDS:
        await status(turn, words[1:])
        return
    if head in CANCEL_WORDS:
        await cancel(turn, words[1:])
        return
    scope = await scope_of(turn.conn, turn.person_id)
    if words:
        chosen = await cohort_in_scope(turn.conn, scope, words[0])
        if chosen is None:
            await not_in_scope(turn, words[0])
            return
        await broadcasts.start(turn, [chosen], chosen=chosen)
        return
    cohorts = await cohorts_in_scope(turn.conn, scope)
    if not cohorts:
        await turn.say("siaran.no_cohorts")
        return
    if len(cohorts) > MAX_COHORT_BUTTONS:
        await turn.say("siaran.too_many_cohorts", {"bc": {"count": len(cohorts)}})
        return
    await broadcasts.start(turn, cohorts, chosen=None)


def _number(words: Sequence[str]) -> int | None:
    if not words:
        return None
    word = words[0].lstrip("#")
    return int(word) if word.isdigit() and len(word) < 12 else None


async def cancel(turn: Turn, words: Sequence[str]) -> None:
    number = _number(words)
    if number is None:
        await turn.say("siaran.cancel_usage")
        return
    if not await broadcast_repo.cancel(turn.conn, broadcast_id=number, author_id=turn.person_id):
        await turn.say("siaran.cannot_cancel", {"bc": {"id": number}})
        return
    await repo.audit(
        turn.conn,
        actor=f"person:{turn.person_id}",
        action="broadcast.cancel",
        target=f"broadcast:{number}",
        now=turn.now,
    )
    await turn.say("siaran.cancelled", {"bc": {"id": number}})


async def status(turn: Turn, words: Sequence[str]) -> None:
    number = _number(words)
    if words and number is None:
        await turn.say("siaran.status_usage")
        return
    rows = await broadcast_repo.recent(
        turn.conn, author_id=turn.person_id, limit=1 if number else 5, broadcast_id=number
    )
    if not rows:
        key = "siaran.status_unknown" if number else "siaran.status_none"
        await turn.say(key, {"bc": {"id": number or 0}})
        return
    ids = [r.id for r in rows]
    counts = await broadcast_repo.outcomes(turn.conn, broadcast_ids=ids)
    failed = await broadcast_repo.failed_names(turn.conn, broadcast_ids=ids)
    names = await _cohort_names(turn, rows)
    shown = [_entry(turn, row, counts[row.id], failed.get(row.id, []), names) for row in rows]
    await turn.say("siaran.status", {"bcs": shown})


async def _cohort_names(turn: Turn, rows: Sequence[Row[Any]]) -> dict[int, Row[Any]]:
    wanted = {int(c) for row in rows for c in (row.cohort_ids or [])}
    found = {}
    for cohort_id in sorted(wanted):
        cohort = await repo.get_cohort(turn.conn, cohort_id=cohort_id)
        if cohort is not None:
            found[cohort_id] = cohort
    return found


def _entry(
    turn: Turn,
    row: Row[Any],
    counts: dict[str, int],
    failed: list[str],
    cohorts: dict[int, Row[Any]],
) -> dict[str, Any]:
    mine = [cohorts[int(c)] for c in row.cohort_ids or [] if int(c) in cohorts]
    zone = mine[0].timezone if mine else DEFAULT_TIMEZONE
    from zoneinfo import ZoneInfo

    when = row.scheduled_at or row.queued_at or row.created_at
    if row.audience == COHORT and mine:
        label = mine[0].name
    else:
        key = "siaran.option.behind" if row.audience == BEHIND else "siaran.option.all"
        label = turn.content.renderer.render(key, turn.locale, {}, "plain")
    text = " ".join((row.text or "").split())
    return {
        "id": row.id,
        "state": row.status,
        "when": broadcasts.format_when(when, ZoneInfo(zone), turn.content, turn.locale),
        "label": label,
        "snippet": text if len(text) <= 60 else text[:59] + "…",
        "photo": bool(row.media_token),
        "recipients": row.recipients,
        "not_sent": row.not_sent,
        **counts,
        "opted_out": counts["opted_out"] + row.not_sent,
        "failed_names": failed[:10],
        "more_failed": max(0, len(failed) - 10),
    }


COMMANDS: tuple[Command, ...] = (Command("siaran", ("broadcast",), siaran, FACILITATORS),)
__all__ = ["ALL", "COMMANDS"]
