"""The /checkin dialog (a weekly meeting, or a visit or call to one participant) and the
job that reminds a facilitator of a follow-up on its day.

Steps: cohort (if several) → kind → meeting: attendance → note → photo;
visit/call: participant → note → rating → follow-up date. `/checkin ubah N` opens the
same dialog at "edit" on one saved check-in (its author, within 24 hours).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import dialog
from bot.core.calendar import calendar_of
from bot.core.dialog import Dialog, DialogState, ask, close
from bot.core.files import keep_photo
from bot.core.jobs import JobContext, TickStats
from bot.core.messages import ALERT, Media
from bot.core.scope import not_in_scope, scope_of
from bot.core.turn import Turn, locale_of
from flows import answers, pacing
from storage import bulk, checkin_repo, repo
from storage import roster as roster_store
from storage import schedule_repo as sched
from storage.checkin_repo import CALL, MEETING, VISIT

NAME = "checkin"
EDITABLE_FOR = dt.timedelta(hours=24)
NOTE_MAX = 1000
SKIP_WORDS = frozenset({"-", "–", "lewati", "skip", "tidak", "tidak ada", "no", "none"})
ALL_WORDS = frozenset({"semua", "all", "semua hadir"})
KINDS = (MEETING, VISIT, CALL)
_NUMBERS = re.compile(r"^[0-9][0-9\s,.;]*$")


def label(turn: Turn, key: str, params: dict[str, Any] | None = None) -> str:
    """A message rendered as plain text (a button label)."""
    return turn.content.renderer.render(f"checkin.{key}", turn.locale, params or {}, "plain")


def cohort_today(timezone: str, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(timezone)).date()


async def start(turn: Turn, cohort: Any) -> None:
    """The dialog for one cohort: what is being logged."""
    state = await dialog.open_dialog(
        turn, NAME, "kind", {"cohort_id": cohort.id, "code": cohort.code, "tz": cohort.timezone}
    )
    await ask(
        turn,
        state,
        "checkin.ask_kind",
        {"cohort_code": cohort.code},
        [(k, label(turn, f"kinds.{k}")) for k in KINDS],
    )


async def choose_cohort(turn: Turn, cohorts: Sequence[Any]) -> None:
    state = await dialog.open_dialog(turn, NAME, "cohort", {})
    await ask(
        turn,
        state,
        "checkin.ask_cohort",
        {},
        [(str(c.id), f"{c.code} – {c.name}") for c in cohorts[:20]],
    )


async def _people(turn: Turn, cohort_id: int) -> list[tuple[int, str]]:
    rows = await roster_store.roster(turn.conn, cohort_ids=[cohort_id])
    return [(r.person_id, r.name or "?") for r in rows]


async def _ask_attendance(turn: Turn, state: DialogState) -> None:
    people = [(int(p), str(n)) for p, n in state.data["people"]]
    present = set(state.data.get("present", []))
    options = [
        (f"p{i}", f"✓ {name}" if pid in present else name)
        for i, (pid, name) in enumerate(people, start=1)
    ]
    options += [("all", label(turn, "button.all")), ("ok", label(turn, "button.done"))]
    await ask(
        turn,
        state,
        "checkin.ask_attendance",
        {"present": len(present), "count": len(people), "buttons": turn.capabilities.buttons},
        options,
    )


async def _ask_note(turn: Turn, state: DialogState) -> None:
    state.step = "note"
    await ask(turn, state, "checkin.ask_note")


async def _ask_photo(turn: Turn, state: DialogState) -> None:
    state.step = "photo"
    await ask(turn, state, "checkin.ask_photo", {}, [("skip", label(turn, "button.skip"))])


async def _ask_rating(turn: Turn, state: DialogState) -> None:
    state.step = "rating"
    await ask(turn, state, "checkin.ask_rating", {}, [(str(n), str(n)) for n in range(1, 6)])


async def _ask_follow_up(turn: Turn, state: DialogState) -> None:
    state.step = "follow"
    await ask(turn, state, "checkin.ask_follow_up", {}, [("none", label(turn, "button.none"))])


async def _ask_edit(turn: Turn, state: DialogState) -> None:
    state.step = "edit"
    what = ["note", "attendance"] if state.data["kind"] == MEETING else ["note", "rating", "follow"]
    await ask(
        turn,
        state,
        "checkin.ask_edit",
        {"n": state.data.get("n", 1)},
        [(w, label(turn, f"edit_what.{w}")) for w in what],
    )


class CheckinDialog(Dialog):
    name = NAME
    words = {  # noqa: RUF012 (read only: the words a step names its options by)
        "attend": {"ok": ("selesai", "sudah", "beres", "done", "finish", "finished")},
        "kind": {MEETING: ("ketemu", "kumpul", "meeting"), CALL: ("telpon", "tlp", "call")},
    }

    def takes_text(self, step: str) -> bool:
        return step in ("attend", "note", "follow", "photo")  # numbers, a note, a date, "-"

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        data = state.data
        if step == "cohort":
            cohort = await repo.get_cohort(turn.conn, cohort_id=int(value))
            mine = await scope_of(turn.conn, turn.person_id)
            if cohort is None or not mine.covers(cohort_id=cohort.id, region=""):
                await close(turn)
                await not_in_scope(turn, value)
                return
            await start(turn, cohort)
        elif step == "kind" and value in KINDS:
            data["kind"] = value
            data["people"] = [list(p) for p in await _people(turn, int(data["cohort_id"]))]
            if not data["people"]:
                await close(turn)
                await turn.say("checkin.no_participants", {"cohort_code": data["code"]})
                return
            if value == MEETING:
                state.step, data["present"] = "attend", []
                await _ask_attendance(turn, state)
            else:
                state.step = "who"
                await ask(
                    turn,
                    state,
                    "checkin.ask_participant",
                    {"visit": value == VISIT},
                    [(f"p{i}", n) for i, (_p, n) in enumerate(data["people"], start=1)],
                )
        elif step == "attend":
            await self._attend(turn, state, value)
        elif step == "who" and value.startswith("p") and value[1:].isdigit():
            index = int(value[1:]) - 1
            if not 0 <= index < len(data["people"]):
                await dialog.repeat(turn, state)
                return
            data["participant_id"] = int(data["people"][index][0])
            data["participant"] = data["people"][index][1]
            await _ask_note(turn, state)
        elif step == "photo" and value == "skip":
            await self._finish(turn, state)
        elif step == "rating" and value.isdigit() and 1 <= int(value) <= 5:
            data["rating"] = int(value)
            if data.get("edit_id"):
                await self._finish(turn, state)
            else:
                await _ask_follow_up(turn, state)
        elif step == "follow" and value == "none":
            data["follow_up_on"] = None
            await self._finish(turn, state)
        elif step == "edit" and value in ("note", "attendance", "rating", "follow"):
            data["editing"] = value
            if value == "note":
                await _ask_note(turn, state)
            elif value == "attendance":
                state.step = "attend"
                await _ask_attendance(turn, state)
            elif value == "rating":
                await _ask_rating(turn, state)
            else:
                await _ask_follow_up(turn, state)
        else:
            await turn.say("staff.dialog.stale")
            await dialog.repeat(turn, state)

    async def _attend(self, turn: Turn, state: DialogState, value: str) -> None:
        data = state.data
        people = [int(p) for p, _n in data["people"]]
        present = set(data.get("present", []))
        if value == "ok":
            data["present"] = [p for p in people if p in present]
            if data.get("edit_id"):
                await self._finish(turn, state)
            else:
                await _ask_note(turn, state)
            return
        if value == "all":
            present = set(people)
        elif value.startswith("p") and value[1:].isdigit() and 1 <= int(value[1:]) <= len(people):
            person = people[int(value[1:]) - 1]
            present ^= {person}
        data["present"] = [p for p in people if p in present]
        await _ask_attendance(turn, state)

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        data, typed = state.data, text.strip()
        if state.step == "attend":
            if typed.lower() in ALL_WORDS:
                await self._attend(turn, state, "all")
                return
            if _NUMBERS.match(typed):
                numbers = [int(n) for n in re.findall(r"[0-9]+", typed)]
                people = [int(p) for p, _n in data["people"]]
                wrong = [n for n in numbers if not 1 <= n <= len(people)]
                if wrong:
                    await turn.say(
                        "checkin.bad_numbers", {"numbers": wrong[:5], "count": len(people)}
                    )
                    await dialog.repeat(turn, state)
                    return
                present = set(data.get("present", [])) | {people[n - 1] for n in numbers}
                data["present"] = [p for p in people if p in present]
                await _ask_attendance(turn, state)
                return
        elif state.step == "note":
            if len(typed) > NOTE_MAX:
                await turn.say("checkin.note_too_long", {"max": NOTE_MAX})
                await dialog.repeat(turn, state)
                return
            data["note"] = None if typed.lower() in SKIP_WORDS else typed
            if data.get("edit_id"):
                await self._finish(turn, state)
            elif data["kind"] == MEETING:
                await _ask_photo(turn, state)
            else:
                await _ask_rating(turn, state)
            return
        elif state.step == "photo" and typed.lower() in SKIP_WORDS:
            await self._finish(turn, state)
            return
        elif state.step == "follow":
            if typed.lower() in SKIP_WORDS:
                data["follow_up_on"] = None
                await self._finish(turn, state)
                return
            today = cohort_today(str(data["tz"]), turn.now)
            try:
                day = answers.parse_follow_up(typed, today)
            except answers.AnswerError:
                await turn.say("checkin.bad_date")
                await dialog.repeat(turn, state)
                return
            data["follow_up_on"] = day.isoformat()
            await self._finish(turn, state)
            return
        await turn.say("checkin.use_options")
        await dialog.repeat(turn, state)

    async def media(self, turn: Turn, state: DialogState, media: Sequence[Media]) -> None:
        if state.step != "photo" or not media or media[0].kind != "photo":
            await super().media(turn, state, media)
            return
        state.data["photo"] = await keep_photo(turn, media[0])
        await self._finish(turn, state)

    async def _finish(self, turn: Turn, state: DialogState) -> None:
        data = state.data
        follow = data.get("follow_up_on")
        follow_day = dt.date.fromisoformat(follow) if follow else None
        actor = f"person:{turn.person_id}"
        if data.get("edit_id"):
            checkin_id = int(data["edit_id"])
            row = await checkin_repo.get_checkin(turn.conn, checkin_id=checkin_id)
            if row is None or turn.now - row.created_at > EDITABLE_FOR:
                await close(turn)
                await turn.say("checkin.edit_too_late")
                return
            what = data.get("editing")
            changes: dict[str, Any] = {}
            if what == "note":
                changes["note"] = data.get("note")
            elif what == "attendance":
                changes["attendance"] = list(data.get("present", []))
            elif what == "rating":
                changes["rating"] = data.get("rating")
            elif what == "follow":
                changes["follow_up_on"] = follow_day
            await checkin_repo.update_checkin(
                turn.conn, checkin_id=checkin_id, now=turn.now, **changes
            )
            await repo.audit(
                turn.conn,
                actor=actor,
                action="checkin.edit",
                target=f"checkin:{checkin_id}",
                details={"field": what or ""},
                now=turn.now,
            )
            await close(turn)
            await turn.say("checkin.edited")
            return
        kind = str(data["kind"])
        present = list(data.get("present", [])) if kind == MEETING else []
        checkin_id = await checkin_repo.add_checkin(
            turn.conn,
            cohort_id=int(data["cohort_id"]),
            facilitator_id=turn.person_id,
            kind=kind,
            now=turn.now,
            participant_id=data.get("participant_id"),
            attendance=present,
            note=data.get("note"),
            rating=data.get("rating"),
            follow_up_on=follow_day,
            photo_token=data.get("photo"),
        )
        await repo.audit(
            turn.conn,
            actor=actor,
            action="checkin.save",
            target=f"checkin:{checkin_id}",
            details={
                "kind": kind,
                "cohort": data["code"],
                "participant": data.get("participant_id"),
            },
            now=turn.now,
        )
        await close(turn)
        await turn.say(
            "checkin.saved",
            {
                "kind_label": label(turn, f"kinds.{kind}"),
                "cohort_code": data["code"],
                "present": len(present),
                "count": len(data["people"]),
                "participant": data.get("participant") or "",
                "rating": data.get("rating"),
                "follow_up": answers.format_date(follow_day, turn.locale) if follow_day else "",
                "photo": bool(data.get("photo")),
            },
        )


async def open_edit(turn: Turn, row: Any, number: int) -> None:
    """`/checkin ubah N`: the dialog on one saved check-in."""
    cohort = await repo.get_cohort(turn.conn, cohort_id=row.cohort_id)
    assert cohort is not None
    people = await _people(turn, row.cohort_id)
    state = await dialog.open_dialog(
        turn,
        NAME,
        "edit",
        {
            "edit_id": row.id,
            "n": number,
            "kind": row.kind,
            "cohort_id": row.cohort_id,
            "code": cohort.code,
            "tz": cohort.timezone,
            "people": [list(p) for p in people],
            "present": list(row.attendance or []),
        },
    )
    await _ask_edit(turn, state)


# --- the follow-up reminder job ------------------------------------------------------


async def follow_up_job(scheduler: JobContext, now: dt.datetime) -> TickStats:
    """Remind the facilitator of a follow-up on its day, at the morning hour, once.

    The hour is the programme's meeting-morning time (07:00 by default) in the cohort's
    time zone, moved out of its quiet hours; a reminder whose day came while the bot was
    down still goes (late, but once).
    """

    stats = TickStats()
    morning = scheduler.schedule.meeting_morning_at or dt.time(7, 0)
    async with scheduler.db.begin() as conn:
        # Every zone in Indonesia is ahead of UTC: tomorrow's UTC date covers local today.
        rows = await checkin_repo.due_follow_ups(conn, until=now.date() + dt.timedelta(days=1))
        due = []
        for row in rows:
            cal = calendar_of(row)
            if now >= pacing.next_allowed(cal, cal.local(row.follow_up_on, morning)):
                due.append(row)
        if not due:
            return stats
        contacts = {
            c.person_id: c
            for c in await sched.person_contacts(
                conn, person_ids=sorted({r.facilitator_id for r in due})
            )
        }
        outbox: list[tuple[Any, ...]] = []
        for row in due:
            if not await checkin_repo.claim_follow_up(conn, checkin_id=row.id):
                continue
            person = contacts.get(row.facilitator_id)
            if person is None:
                continue
            locale = locale_of(person.language)
            scheduler.queue(
                outbox,
                person,
                "checkin.follow_up_reminder",
                ALERT,
                f"checkin-follow-up:{row.id}",
                {
                    "cohort_name": row.cohort_name,
                    "cohort_code": row.code,
                    "participant": row.participant_name or "",
                    "note": row.note or "",
                    "date": answers.format_date(row.at.date(), locale),
                    "checkin_kind": row.kind,
                },
                stats,
            )
        await bulk.insert_outbox(conn, rows=outbox, now=now)
    return stats
