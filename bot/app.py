"""Putting the parts together: database, content, channels, dispatcher, sender."""

from __future__ import annotations

import datetime as dt
import gc
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import Registry
from bot.channels.console import ConsoleChannel
from bot.clock import Clock, SimulatedClock, SystemClock
from bot.dispatcher import Dispatcher
from bot.scheduler import Scheduler
from bot.sender import Sender
from bot.staff import progress as staff_progress
from content.checks import check_content
from content.loader import CONTENT_DIR, Content, ContentError, load_content
from flows import legal, plan
from storage import repo
from storage.db import make_engine, upgrade

DAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
ERRORS = (
    "empty",
    "number",
    "number_range",
    "rupiah",
    "rupiah_range",
    "choice",
    "yesno",
    "date",
    "date_range",
    "text_too_short",
    "text_too_long",
    "help_offer",
    "stale_button",
    "too_few_items",
)
# Every message the code (not a flow) sends; the content check insists on each.
REQUIRED_MESSAGES: tuple[str, ...] = (
    "join.found",
    "join.bad_code",
    "join.cohort_full",
    "join.already_member",
    "join.need_code",
    "common.help.participant",
    "common.help.staff",
    "staff.not_in_scope",
    "staff.dialog.text_please",
    "staff.dialog.stale",
    "staff.dialog.cancelled",
    "common.help.guest",
    "common.language.unknown",
    "common.language.switched",
    "common.not_joined",
    "common.staff_idle",
    "common.progress",
    "common.idle.all_done",
    "common.idle.waiting",
    "common.unsupported",
    "common.unknown_command",
    "common.internal_error",
    "common.not_allowed",
    "common.continue",
    "nudges.unlock",
    "nudges.reminder_first",
    "nudges.reminder_second",
    "nudges.alert",
    "nudges.meeting_evening",
    "nudges.meeting_morning",
    "nudges.digest",
    "common.photo_received",
    "common.optout.done",
    "common.optout.resumed",
    "common.optout.reminder",
    "common.media_saved",
    "common.edited",
    *(f"common.days.{day}" for day in DAYS),
    *(f"errors.{code}" for code in ERRORS),
    # the programme's calculators, permit advisor, plan and edit (bot/programme.py,
    # bot/commands/programme.py, bot/plan_doc.py)
    "calc.missing",
    "calc.failed",
    "calc.none",
    "calc.busy",
    "week03.ranking_lines",
    "week10.table",
    "week10.summary_line",
    "izin.route_intro",
    "izin.chain",
    *(f"izin.step.{code}" for code in legal.STEPS),
    "plan.summary",
    "plan.document",
    "plan.title",
    "plan.subtitle",
    "plan.item_missing",
    "plan.missing",
    "plan.cash_title",
    "plan.cash_negative",
    "plan.footer",
    *(f"plan.table.{name}" for name in plan.CASH_COLUMNS),
    *(f"plan.section.{section}" for section in plan.SECTION_IDS),
    *plan.all_label_keys(),
    "edit.weeks",
    "edit.nothing",
    "edit.not_done",
    "edit.list",
    "edit.how",
    "edit.bad_number",
    "edit.again",
    "edit.saved",
    # staff invites and pre-registered participants (bot/staff/invites.py, commands/admin.py)
    *(
        f"admin.invite.{name}"
        for name in ("created", "usage", "bad_region", "participant", "used", "yours")
    ),
    *(f"admin.invite.{name}" for name in ("expired", "already", "welcome")),
    "admin.prereg.hello",
    # check-ins, roster, who needs a visit (helper checkin)
    *(f"checkin.kinds.{k}" for k in ("meeting", "visit", "call")),
    *(f"checkin.button.{k}" for k in ("done", "all", "skip", "none")),
    *(f"checkin.edit_what.{k}" for k in ("note", "attendance", "rating", "follow")),
    *(
        f"checkin.{k}"
        for k in [
            "no_cohort",
            "which_cohort",
            "ask_cohort",
            "ask_kind",
            "no_participants",
            "ask_attendance",
            "ask_participant",
            "ask_note",
            "ask_photo",
            "ask_rating",
            "ask_follow_up",
            "bad_date",
            "bad_numbers",
            "note_too_long",
            "use_options",
            "saved",
            "edited",
            "ask_edit",
            "edit_none",
            "edit_bad_number",
            "edit_not_yours",
            "edit_too_late",
            "history_empty",
            "history",
            "follow_up_reminder",
            "roster",
            "behind",
        ]
    ),
    # review of work (helper checkin)
    *(f"review.artefact.{k}" for k in ("product", "plan", "permits")),
    "review.button.approve",
    "review.button.return",
    *(
        f"review.field.{k}"
        for k in [
            "w3_choice",
            "w3_reason",
            "w11_plan_agreed",
            "w11_changes",
            "w11_members_present",
            "w12_permit_route",
            "w12_permit_filed",
            "w12_halal_filed",
            "w12_label_draft",
        ]
    ),
    *(
        f"review.{k}"
        for k in [
            "none",
            "list",
            "show",
            "ask_comment",
            "comment_length",
            "already",
            "decided",
            "approved",
            "returned",
        ]
    ),
    # facilitator broadcasts (bot/commands/broadcast.py, bot/staff/broadcasts.py)
    "siaran.message",
    "siaran.option.all",
    "siaran.option.behind",
    "siaran.option.send",
    "siaran.option.schedule",
    "siaran.option.cancel",
    "siaran.no_cohorts",
    "siaran.too_many_cohorts",
    "siaran.ask_audience",
    "siaran.ask_text",
    "siaran.too_long",
    "siaran.nobody",
    "siaran.preview_intro",
    "siaran.preview",
    "siaran.ask_when",
    "siaran.bad_when",
    "siaran.past",
    "siaran.too_far",
    "siaran.scheduled",
    "siaran.queued",
    "siaran.already",
    "siaran.cancel_usage",
    "siaran.cannot_cancel",
    "siaran.cancelled",
    "siaran.status_usage",
    "siaran.status_none",
    "siaran.status_unknown",
    "siaran.status",
    # the coordinators' views: /progres for staff, /peserta, /ekspor (bot/commands/coordinator.py)
    *staff_progress.MESSAGES,
)
SIMULATED_CLOCK_KEY = "clock.simulated_now"
JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(6))


def load_checked_content(root: Path | str = CONTENT_DIR) -> Content:
    """Load the content and render every message once; refuse to start on a problem."""
    content = load_content(root)
    problems = check_content(content, REQUIRED_MESSAGES)
    if problems:
        raise ContentError("\n".join(problems))
    return content


@dataclass
class App:
    db: AsyncEngine
    content: Content
    channels: Registry
    clock: Clock
    dispatcher: Dispatcher
    sender: Sender
    console: ConsoleChannel
    scheduler: Scheduler

    async def close(self) -> None:
        await self.db.dispose()

    async def advance_clock(self, delta: dt.timedelta) -> dt.datetime:
        """Move the simulated clock on (kept in the database) and send what fell due."""
        if not isinstance(self.clock, SimulatedClock):
            raise RuntimeError("only a simulated clock can be moved")
        now = self.clock.advance(delta)
        async with self.db.begin() as conn:
            await repo.set_value(conn, key=SIMULATED_CLOCK_KEY, value=now.isoformat())
        await self.scheduler.tick()
        await self.sender.drain()
        return now

    async def step_clock(self, delta: dt.timedelta, every: dt.timedelta) -> dt.datetime:
        """Move the simulated clock on in steps of `every`, ticking and sending at each,
        so that what falls due on the way goes out at its own time."""
        end = self.clock.now() + delta
        while self.clock.now() + every < end:
            await self.advance_clock(every)
        return await self.advance_clock(end - self.clock.now())


async def simulated_clock(db: AsyncEngine, start: dt.datetime | None = None) -> SimulatedClock:
    """The database's simulated clock, started (now, or at `start`) on first use."""
    async with db.begin() as conn:
        stored = await repo.get_value(conn, key=SIMULATED_CLOCK_KEY)
        if stored:
            return SimulatedClock(dt.datetime.fromisoformat(stored))
        begin = (start or SystemClock().now()).replace(second=0, microsecond=0)
        await repo.set_value(conn, key=SIMULATED_CLOCK_KEY, value=begin.isoformat())
        return SimulatedClock(begin)


async def open_app(
    url: str,
    *,
    simulated: bool = False,
    clock: Clock | None = None,
    out: TextIO | None = None,
    content: Content | None = None,
    default_language: str = "id",
) -> App:
    """Check the content, upgrade the database and build the application."""
    content = content or load_checked_content()
    db = make_engine(url)
    try:
        await upgrade(db)
        if clock is None:
            clock = await simulated_clock(db) if simulated else SystemClock()
    except BaseException:
        await db.dispose()
        raise
    channels = Registry()
    console = ConsoleChannel(out, run_id=secrets.token_hex(4) + "-")
    channels.register(console)
    dispatcher = Dispatcher(db, content, channels, clock, default_language=default_language)
    sender = Sender(db, channels, clock, renderer=content.renderer)
    scheduler = Scheduler(db, content, channels, clock, on_queued=sender.wake.set)
    # What start-up built (templates, statements, flows) lives as long as the process:
    # keep the cyclic garbage collector from scanning it again and again.
    gc.freeze()
    return App(db, content, channels, clock, dispatcher, sender, console, scheduler)
