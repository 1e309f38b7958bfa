"""/jeda (/pause): a facilitator pauses their cohort's calendar, changes or ends a pause.

Steps: cohort (if several) → span (type the days, or pick the Lebaran pause, or pick a
pause to change or end) → reason → confirm (what moves is shown first) → kept.
A span typed with the command (`/jeda 8 Maret sampai 21 Maret`) goes straight to the
reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.core import dialog
from bot.core.calendar import calendar_of
from bot.core.dialog import Dialog, DialogState, ask, close
from bot.core.scope import not_in_scope, scope_of
from bot.core.turn import Turn
from bot.features.calendar import pauses
from flows import answers, pacing
from storage import repo

NAME = "jeda"
REASONS = ("lebaran", "ramadan", "panen", "libur")
NO_REASON = frozenset({"-", "lewati", "skip", "tidak ada", "tanpa alasan", "none"})


def label(turn: Turn, key: str, params: dict[str, Any] | None = None) -> str:
    return turn.content.renderer.render(f"jeda.{key}", turn.locale, params or {}, "plain")


async def _cohort(turn: Turn, state: DialogState) -> Any:
    return await repo.get_cohort(turn.conn, cohort_id=int(state.data["cohort_id"]))


async def start(turn: Turn, cohort: Any, typed: str = "") -> None:
    """The dialog on one cohort: its pauses and how to add one; or, with a typed span,
    straight on to the reason."""
    state = await dialog.open_dialog(
        turn, NAME, "span", {"cohort_id": cohort.id, "code": cohort.code}
    )
    if typed.strip():
        await _span(turn, state, cohort, typed)
        return
    await _ask_span(turn, state, cohort)


async def choose_cohort(turn: Turn, cohorts: Sequence[Any]) -> None:
    state = await dialog.open_dialog(turn, NAME, "cohort", {})
    await ask(
        turn,
        state,
        "jeda.ask_cohort",
        {},
        [(str(c.id), f"{c.code} – {c.name}") for c in cohorts[:20]],
    )


async def _ask_span(turn: Turn, state: DialogState, cohort: Any) -> None:
    state.step = "span"
    schedule = turn.content.program.schedule
    cal = calendar_of(cohort)
    today = pauses.today_of(cohort, turn.now)
    current = pauses.listed(cal, today, turn.locale)
    options: list[tuple[str, str]] = []
    lebaran = pauses.plan_lebaran(
        cohort,
        turn.content.holidays,
        now=turn.now,
        schedule=schedule,
        reason=label(turn, "reasons.lebaran"),
    )
    if lebaran is not None:
        shown = pauses.describe(lebaran, turn.locale)
        options.append(("lebaran", label(turn, "button.lebaran", shown)))
    for p in current:
        options.append((f"edit{p['id']}", label(turn, "button.edit", p)))
        options.append((f"end{p['id']}", label(turn, "button.end", p)))
    await ask(
        turn,
        state,
        "jeda.ask_span",
        {
            "cohort_code": cohort.code,
            "pauses": current,
            "lebaran": pauses.describe(lebaran, turn.locale) if lebaran else None,
            "estimated": lebaran is not None
            and pauses.lebaran_estimated(turn.content.holidays, lebaran),
            "editing": False,
        },
        options,
    )


async def _span(turn: Turn, state: DialogState, cohort: Any, typed: str) -> None:
    today = pauses.today_of(cohort, turn.now)
    try:
        first, last = answers.parse_span(typed, today)
    except answers.AnswerError:
        await turn.say("jeda.bad_span")
        await dialog.repeat(turn, state)
        return
    pause_id = state.data.get("edit_id")
    try:
        plan = pauses.plan_pause(
            cohort,
            first=first,
            last=last,
            reason="",
            now=turn.now,
            schedule=turn.content.program.schedule,
            pause_id=int(pause_id) if pause_id else None,
        )
    except pacing.PauseError as refused:
        await _refused(turn, refused)
        await dialog.repeat(turn, state)
        return
    state.data.update(first=plan.pause.first.isoformat(), last=plan.pause.last.isoformat())
    if pause_id:
        state.data["reason"] = plan.pause.reason
        await _confirm(turn, state, cohort)
        return
    state.step = "reason"
    await ask(
        turn,
        state,
        "jeda.ask_reason",
        {},
        [(r, label(turn, f"reasons.{r}")) for r in REASONS]
        + [("none", label(turn, "button.no_reason"))],
    )


async def _refused(turn: Turn, refused: pacing.PauseError) -> None:
    other = refused.other
    await turn.say(
        f"jeda.refused.{refused.reason}",
        {
            "longest": pacing.LONGEST_PAUSE.days // 7,
            "from_date": answers.format_date(other.first, turn.locale) if other else "",
            "to_date": answers.format_date(other.last, turn.locale) if other else "",
        },
    )


def _plan(turn: Turn, state: DialogState, cohort: Any) -> pauses.Plan:
    data = state.data
    schedule = turn.content.program.schedule
    if data.get("end_id"):
        return pauses.plan_cancel(
            cohort, pause_id=int(data["end_id"]), now=turn.now, schedule=schedule
        )
    return pauses.plan_pause(
        cohort,
        first=dt.date.fromisoformat(str(data["first"])),
        last=dt.date.fromisoformat(str(data["last"])),
        reason=str(data.get("reason") or ""),
        now=turn.now,
        schedule=schedule,
        pause_id=int(data["edit_id"]) if data.get("edit_id") else None,
    )


async def _confirm(turn: Turn, state: DialogState, cohort: Any) -> None:
    try:
        plan = _plan(turn, state, cohort)
    except pacing.PauseError as refused:
        await close(turn)
        await _refused(turn, refused)
        return
    state.step = "confirm"
    await ask(
        turn,
        state,
        "jeda.preview",
        pauses.describe(plan, turn.locale),
        [("save", label(turn, "button.save")), ("again", label(turn, "button.again"))],
    )


class PauseDialog(Dialog):
    name = NAME
    words = {  # noqa: RUF012 (read only: the words a step names its options by)
        "confirm": {"save": ("simpan", "ya", "save", "yes", "ok", "oke")},
    }

    def takes_text(self, step: str) -> bool:
        return step in ("span", "reason")  # a span or a reason as typed

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        data = state.data
        if step == "cohort":
            cohort = (
                await repo.get_cohort(turn.conn, cohort_id=int(value)) if value.isdigit() else None
            )
            mine = await scope_of(turn.conn, turn.person_id)
            if cohort is None or not (mine.admin or cohort.id in mine.cohort_ids):
                await close(turn)
                await not_in_scope(turn, value)
                return
            await start(turn, cohort)
            return
        cohort = await _cohort(turn, state)
        if cohort is None:
            await close(turn)
            await turn.say("staff.dialog.stale")
            return
        if step == "span" and value == "lebaran":
            plan = pauses.plan_lebaran(
                cohort,
                turn.content.holidays,
                now=turn.now,
                schedule=turn.content.program.schedule,
                reason=label(turn, "reasons.lebaran"),
            )
            if plan is None:
                await turn.say("jeda.no_lebaran")
                await _ask_span(turn, state, cohort)
                return
            data.update(
                first=plan.pause.first.isoformat(),
                last=plan.pause.last.isoformat(),
                reason=plan.pause.reason,
            )
            await _confirm(turn, state, cohort)
        elif step == "span" and value[:4] == "edit" and value[4:].isdigit():
            data["edit_id"] = int(value[4:])
            state.step = "span"
            await ask(turn, state, "jeda.ask_new_span", {"cohort_code": cohort.code})
        elif step == "span" and value[:3] == "end" and value[3:].isdigit():
            data["end_id"] = int(value[3:])
            await _confirm(turn, state, cohort)
        elif step == "reason" and (value in REASONS or value == "none"):
            data["reason"] = "" if value == "none" else label(turn, f"reasons.{value}")
            await _confirm(turn, state, cohort)
        elif step == "confirm" and value == "save":
            try:
                plan = _plan(turn, state, cohort)
            except pacing.PauseError as refused:
                await close(turn)
                await _refused(turn, refused)
                return
            await pauses.apply(turn.conn, plan, actor=f"person:{turn.person_id}", now=turn.now)
            await close(turn)
            await turn.say("jeda.saved", pauses.describe(plan, turn.locale))
        elif step == "confirm" and value == "again":
            for key in ("first", "last", "reason", "edit_id", "end_id"):
                data.pop(key, None)
            await _ask_span(turn, state, cohort)
        else:
            await turn.say("staff.dialog.stale")
            await dialog.repeat(turn, state)

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        cohort = await _cohort(turn, state) if state.step != "cohort" else None
        if state.step == "span" and cohort is not None:
            await _span(turn, state, cohort, text)
            return
        if state.step == "reason" and cohort is not None:
            typed = " ".join(text.split())
            if len(typed) > pauses.REASON_MAX:
                await turn.say("jeda.reason_too_long", {"max": pauses.REASON_MAX})
                await dialog.repeat(turn, state)
                return
            state.data["reason"] = "" if typed.lower() in NO_REASON else typed
            await _confirm(turn, state, cohort)
            return
        await turn.say("jeda.use_options")
        await dialog.repeat(turn, state)
