"""The scheduler: weekly unlocks, the silence ladder, meeting reminders and digests.

What is due lives in the database, not in APScheduler's job store: a cohort's next
moment (`cohorts.next_tick_at`) and each open session's silence (`flow_sessions`
`updated_at` and `nudge_stage`). APScheduler 3's `AsyncIOScheduler` only calls
`tick()` every so often. A tick reads what is due, decides with the pure rules of
`flows/pacing.py`, and writes the nudge keys, the outbox rows and the new stage or
next moment in one transaction per chunk: a crash loses nothing and a restart sends
nothing twice (a nudge's key is unique). On PostgreSQL the due rows are claimed with
SKIP LOCKED, so several workers (and two lanes within a tick) share a tick without
doing any piece twice.

A tick may queue tens of thousands of messages (a Monday morning's unlocks). It
queues each as its message key and values, rendered by the sender when it goes
(bot/core/deferred.py), and reads and writes its rows in bulk (storage/bulk.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.calendar import calendar_of, meeting_holidays
from bot.core.channel import Registry
from bot.core.clock import Clock
from bot.core.deferred import deferred
from bot.core.jobs import Job, TickStats
from bot.core.messages import BROADCAST
from bot.core.metrics import Metrics
from bot.core.turn import locale_of
from content.loader import Content
from flows import pacing
from flows.answers import format_date
from flows.pacing import (
    ALERT,
    DIGEST,
    HOLIDAY_CHECK,
    MEETING,
    PAUSE,
    REMINDER,
    UNLOCK,
    Calendar,
    Event,
    Schedule,
)
from storage import bulk, calendar_repo, repo
from storage import schedule_repo as sched

log = logging.getLogger(__name__)

NEVER = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)  # a cohort whose programme is over
GOAL_KEY, PRODUCT_KEY = "w1.goal", "w4.product"
_ANY_CODE = "\x00code\x00"  # stands for a cohort's code in its events' keys (no code has NUL)
# The nudges a tick queues.
MESSAGES: tuple[str, ...] = (
    "nudges.unlock",
    "nudges.reminder_first",
    "nudges.reminder_second",
    "nudges.alert",
    "nudges.meeting_evening",
    "nudges.meeting_morning",
    "nudges.digest",
    "nudges.pause_start",
    "nudges.pause_end",
    "nudges.pause_start_staff",
    "nudges.pause_end_staff",
    "nudges.holiday_check",
)


class Scheduler:
    def __init__(
        self,
        db: AsyncEngine,
        content: Content,
        channels: Registry,
        clock: Clock,
        *,
        chunk: int = 200,
        session_chunk: int = 2000,
        lanes: int = 2,
        on_queued: Callable[[], None] | None = None,
        jobs: Sequence[Job] = (),
        metrics: Metrics | None = None,
    ) -> None:
        self.db, self.content, self.channels, self.clock = db, content, channels, clock
        self.schedule: Schedule = content.program.schedule
        self.chunk, self.session_chunk, self.lanes = chunk, session_chunk, max(1, lanes)
        self.on_queued = on_queued
        self.jobs = tuple(jobs)  # the features' periodic jobs, after the programme's events
        # calendar → its events and next moment in this tick (see _moments)
        self._calendars: dict[Calendar, tuple[list[Event], dt.datetime | None]] = {}
        self._running = asyncio.Lock()
        self.metrics = metrics

    # --- the tick ------------------------------------------------------------------

    async def tick(self) -> TickStats:
        """Do everything that is due now; returns what was queued."""
        async with self._running:  # one tick at a time in this process
            stats = TickStats()
            began = time.perf_counter()
            now = self.clock.now()
            self._calendars.clear()  # worked out for the previous tick's `now`
            # PostgreSQL: cohorts are claimed with SKIP LOCKED, so a few lanes take
            # chunks side by side and our Python work overlaps the server's. SQLite
            # has one writer at a time: one lane.
            lanes = self.lanes if self.db.dialect.name == "postgresql" else 1
            if lanes == 1:
                stats.add(await self._cohort_lane(now))
            else:  # a lane that fails stops the others (each chunk rolls back whole)
                async with asyncio.TaskGroup() as group:
                    running = [group.create_task(self._cohort_lane(now)) for _ in range(lanes)]
                for lane in running:
                    stats.add(lane.result())
            after: tuple[dt.datetime, int] | None = None
            while True:
                part, seen, held, after = await self._silence_chunk(now, after)
                stats.add(part)
                # A chunk where nothing moved is quiet hours: the rest is too. Sessions
                # a pause holds back are read past, so that they never hide the others.
                if seen < self.session_chunk or (part.sessions == 0 and not held):
                    break
                await asyncio.sleep(0)
            for job in self.jobs:  # scheduled broadcasts, follow-up reminders, ...
                stats.add(await job(self, now))
            if stats.total and self.on_queued is not None:
                self.on_queued()
            if self.metrics is not None:
                self.metrics.count_tick(time.perf_counter() - began, stats.sent)
            return stats

    async def _cohort_lane(self, now: dt.datetime) -> TickStats:
        """Chunk after chunk of due cohorts, until none is left to claim."""
        stats = TickStats()
        while True:
            part = await self._cohort_chunk(now)
            stats.add(part)
            if part.cohorts < self.chunk:
                return stats
            await asyncio.sleep(0)  # let replies through between chunks

    def start(self, interval_s: float = 60.0) -> Any:
        """Run `tick` every `interval_s` seconds with APScheduler 3 (returns the scheduler)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._safe_tick,
            "interval",
            seconds=interval_s,
            id="jamaah-tick",
            max_instances=1,
            coalesce=True,
            next_run_time=dt.datetime.now(dt.UTC),  # APScheduler's own timer, not our clock
        )
        scheduler.start()
        return scheduler

    async def _safe_tick(self) -> None:
        try:
            await self.tick()
        except Exception:  # the next tick tries again; nothing was half-written
            log.exception("the scheduler tick failed")

    # --- cohorts: unlocks, meetings, digests ------------------------------------------

    async def _cohort_chunk(self, now: dt.datetime) -> TickStats:
        stats = TickStats()
        async with self.db.begin() as conn:
            rows = await sched.due_cohorts(conn, now=now, limit=self.chunk)
            stats.cohorts = len(rows)
            if not rows:
                return stats
            due: list[tuple[Row[Any], Calendar, Event]] = []
            next_ticks: list[tuple[int, dt.datetime | None]] = []
            local = await calendar_repo.local_holidays(conn)
            for row in rows:
                try:
                    holidays = meeting_holidays(
                        row, self.content.holidays, local, locale_of(row.language)
                    )
                    cal = calendar_of(row, holidays)
                except Exception:  # a broken time zone or time: log, look again tomorrow
                    log.exception(
                        "cohort %s has a calendar that cannot be read",
                        row.code,
                        extra={"cohort": row.code},
                    )
                    next_ticks.append((row.id, now + dt.timedelta(days=1)))
                    continue
                events, following = self._moments(cal, row.code, now)
                for event in events:
                    if event.at < row.created_at:
                        continue  # before the cohort existed: nobody to tell
                    if pacing.is_late(event.at, now, self.schedule):
                        stats.skipped_late += 1
                        continue
                    due.append((row, cal, event))
                next_ticks.append((row.id, following or NEVER))
            new = await sched.claim_keys(
                conn,
                rows=[
                    {
                        "key": event.key,
                        "person_id": None,
                        "cohort_id": row.id,
                        "kind": event.kind,
                        "week": event.week,
                        "due_at": event.at,
                        "created_at": now,
                        "status": "queued",
                    }
                    for row, _cal, event in due
                ],
            )
            fresh = [(row, cal, event) for row, cal, event in due if event.key in new]
            if fresh:
                await self._cohort_events(conn, fresh, now, stats)
            await sched.set_next_ticks(conn, values=next_ticks)
        return stats

    def _moments(
        self, cal: Calendar, code: str, now: dt.datetime
    ) -> tuple[list[Event], dt.datetime | None]:
        """A cohort's events from the late window up to `now`, and its next moment.

        Thousands of cohorts share a few dozen calendars (zone, start, hours): each
        calendar's are worked out once a tick (`tick` clears them), with a stand-in code.
        """
        found = self._calendars.get(cal)
        if found is None:
            after = now - self.schedule.late_after - dt.timedelta(days=1)
            found = (
                list(pacing.cohort_events(cal, self.schedule, after, now, _ANY_CODE)),
                pacing.next_event_at(cal, self.schedule, now, _ANY_CODE),
            )
            self._calendars[cal] = found
        events, following = found
        return [replace(e, key=e.key.replace(_ANY_CODE, code)) for e in events], following

    async def _cohort_events(
        self,
        conn: AsyncConnection,
        fresh: Sequence[tuple[Row[Any], Calendar, Event]],
        now: dt.datetime,
        stats: TickStats,
    ) -> None:
        cohort_ids = sorted({row.id for row, _cal, _event in fresh})
        # Whom to read: in each cohort, those ready for the week that opens now, or
        # everyone when a meeting reminder or a digest is due there too.
        opening = {(row.id, _opening(event)) for row, _c, event in fresh if _opening(event)}
        everyone = {row.id for row, _c, event in fresh if event.kind in (MEETING, DIGEST, PAUSE)}
        wanted = [(cid, week, cid in everyone) for cid, week in sorted(opening)]
        wanted += [(cid, 0, True) for cid in sorted(everyone - {cid for cid, _w in opening})]
        by_cohort: dict[int, dict[int, sched.Member]] = defaultdict(dict)
        ready: set[tuple[int, int, int]] = set()  # (cohort, week, person)
        for member in await sched.participants(conn, weeks=wanted, goal_key=GOAL_KEY):
            by_cohort[member.cohort_id].setdefault(member.person_id, member)
            if member.ready:  # the week before is done, this one is not
                ready.add((member.cohort_id, member.opening, member.person_id))
        staff = await sched.facilitators(conn, cohort_ids=cohort_ids)
        staff_by_cohort: dict[int, list[Row[Any]]] = defaultdict(list)
        for fac in staff:
            staff_by_cohort[fac.cohort_id].append(fac)
        outbox: list[tuple[Any, ...]] = []
        pending: list[tuple[int, int, str, str]] = []
        progress = (
            await sched.done_weeks(conn, cohort_ids=cohort_ids)
            if any(event.kind == DIGEST for _r, _c, event in fresh)
            else {}
        )
        held = (
            await calendar_repo.meetings_held(conn, cohort_ids=cohort_ids)
            if any(event.holiday for _r, _c, event in fresh)
            else {}
        )
        for row, cal, event in fresh:
            people = list(by_cohort[row.id].values()) if row.id in by_cohort else []
            facilitator = staff_by_cohort[row.id][0].name if staff_by_cohort.get(row.id) else ""
            base = {"cohort_name": row.name, "facilitator": facilitator or ""}
            week = _opening(event)
            if week:
                flow = self.content.flow_for_week(week)
                if flow is None:
                    continue  # no module for that week (yet): nothing to open
                # Thousands of these a tick: what the cohort's people share is worked out
                # once per language, and queue's checks are made here.
                shared: dict[str, tuple[str, dict[str, Any]]] = {}  # language → locale, values
                first_step, sent = flow.steps[0].id, 0
                for person in people:
                    if (row.id, week, person.person_id) not in ready:
                        continue  # behind: the ladder looks after them
                    if person.session_flow is not None:
                        continue  # busy
                    pending.append((person.person_id, row.id, flow.id, first_step))
                    if person.opted_out or person.unreachable:
                        continue
                    told = shared.get(person.language)
                    if told is None:
                        told = shared[person.language] = (
                            locale_of(person.language),
                            {**base, **self._week(week, person.language)},
                        )
                    locale, values = told
                    goal = (orjson.loads(person.goal) if person.goal else None) or {}
                    payload = deferred(
                        "nudges.unlock",
                        locale,
                        {**values, "name": person.name or "", "goal": goal},
                        UNLOCK,
                    )
                    outbox.append(
                        (
                            person.contact_id,
                            orjson.dumps(payload).decode(),
                            repo.PRIORITY_NUDGE,
                            f"{event.key}:{person.person_id}"[:200],
                            UNLOCK,
                        )
                    )
                    sent += 1
                if sent:
                    stats.sent[UNLOCK] += sent
            elif event.kind == MEETING:
                key = (
                    "nudges.meeting_evening"
                    if event.detail == "evening"
                    else "nudges.meeting_morning"
                )
                meeting_local = (event.meeting_at or event.at).astimezone(cal.zone)
                if event.holiday and not held.get((row.id, meeting_local.date()), False):
                    continue  # a holiday: only if the facilitator said it happens
                silent = len(self.schedule.ladder)
                for person in people:
                    if (person.nudge_stage or 0) >= silent and self.schedule.alerts:
                        continue  # silent past the alert: their facilitator reaches out
                    self.queue(
                        outbox,
                        person,
                        key,
                        MEETING,
                        f"{event.key}:{person.person_id}",
                        {
                            **base,
                            "meeting_day": self._day(row.meeting_day, person.language),
                            "time": meeting_local.strftime("%H.%M"),
                        },
                        stats,
                    )
            elif event.kind == HOLIDAY_CHECK:
                meeting_local = (event.meeting_at or event.at).astimezone(cal.zone)
                if (row.id, meeting_local.date()) in held:
                    continue  # the facilitator has already said (/pertemuan): no need to ask
                for fac in staff_by_cohort.get(row.id, []):
                    self.queue(
                        outbox,
                        fac,
                        "nudges.holiday_check",
                        MEETING,
                        f"{event.key}:{fac.contact_id}",
                        {
                            **base,
                            "cohort_code": row.code,
                            "holiday": event.holiday,
                            "date": format_date(meeting_local.date(), locale_of(fac.language)),
                            "time": meeting_local.strftime("%H.%M"),
                        },
                        stats,
                        name=fac.name,
                    )
            elif event.kind == PAUSE and event.pause is not None:
                pause = event.pause
                key = "nudges.pause_start" if event.detail == "start" else "nudges.pause_end"
                # The week under way on the pause's last day: the one after it is the
                # first to open when the pause is over.
                following = pacing.calendar_week(
                    cal, cal.local(pause.last, dt.time(23, 59)), self.schedule
                )
                next_week = following + 1 if following < cal.weeks else 0
                opens = (
                    pacing.unlock_at(cal, next_week, self.schedule).astimezone(cal.zone).date()
                    if next_week
                    else None
                )
                # Participants get the news; their facilitators a version of their own
                # (the participants have been told, /jeda changes it), not one signed by
                # themselves about tasks they do not have.
                recipients: list[tuple[Any, str, str | None]] = [
                    *((person, key, None) for person in people),
                    *((fac, f"{key}_staff", fac.name) for fac in staff_by_cohort.get(row.id, [])),
                ]
                for person, message, name in recipients:
                    locale = locale_of(person.language)
                    self.queue(
                        outbox,
                        person,
                        message,
                        BROADCAST,  # news for the whole cohort: a broadcast's template
                        f"{event.key}:{person.contact_id}",
                        {
                            **base,
                            "cohort_code": row.code,
                            "reason": pause.reason,
                            "from_date": format_date(pause.first, locale),
                            "to_date": format_date(pause.last, locale),
                            "week": following,
                            "resume_week": next_week,
                            "opens": format_date(opens, locale) if opens else "",
                        },
                        stats,
                        name=name,
                    )
            elif event.kind == DIGEST:
                week = max(pacing.calendar_week(cal, now, self.schedule), 1)
                done_names, behind, unreachable = [], [], []
                for person in people:
                    count, top = progress.get(person.person_id, (0, 0))
                    label = person.name or "?"
                    if person.opted_out or person.unreachable:
                        unreachable.append(label)
                    if top >= week:
                        done_names.append(label)
                    elif count + 1 < week:
                        behind.append({"name": label, "week": count + 1})
                for fac in staff_by_cohort.get(row.id, []):
                    self.queue(
                        outbox,
                        fac,
                        "nudges.digest",
                        DIGEST,
                        f"{event.key}:{fac.contact_id}",
                        {
                            **base,
                            "week": week,
                            "total": len(people),
                            "finished": done_names,
                            "behind": behind,
                            "unreachable": unreachable,
                        },
                        stats,
                        name=fac.name,
                    )
        await sched.start_pending_sessions(conn, rows=pending, now=now)
        await bulk.insert_outbox(conn, rows=outbox, now=now)

    # --- silence: reminders and alerts ------------------------------------------------

    async def _silence_chunk(
        self, now: dt.datetime, after: tuple[dt.datetime, int] | None
    ) -> tuple[TickStats, int, int, tuple[dt.datetime, int] | None]:
        """One chunk of the silence ladder: (what was queued, rows read, rows a pause
        held back, where the next chunk starts)."""
        stats = TickStats()
        ladder = self.schedule.ladder
        held = 0
        async with self.db.begin() as conn:
            rows = await sched.silent_sessions(
                conn,
                now=now,
                ladder=[after for after, _k in ladder],
                limit=self.session_chunk,
                after=after,
            )
            if not rows:
                return stats, 0, 0, after
            moves: list[dict[str, Any]] = []
            sends: list[tuple[Row[Any], pacing.Rung, int]] = []
            for row in rows:
                flow = self.content.flows.get(row.flow)
                if flow is None or flow.week is None:
                    # Not a week's task (an advisor, say): no reminders for it.
                    moves.append(
                        {"person_id": row.person_id, "seen": row.updated_at, "stage": len(ladder)}
                    )
                    continue
                cal = calendar_of(row)
                rung = pacing.silence(cal, row.updated_at, row.nudge_stage, now, self.schedule)
                if rung.stage == row.nudge_stage:
                    held += bool(cal.pauses)
                    continue  # quiet hours, or a pause: later
                moves.append(
                    {"person_id": row.person_id, "seen": row.updated_at, "stage": rung.stage}
                )
                if rung.kind is None:
                    stats.skipped_late += 1
                else:
                    sends.append((row, rung, flow.week))
            stats.sessions = len(moves)
            if sends:
                await self._silence_messages(conn, sends, now, stats)
            await sched.set_stages(conn, rows=moves)
        return stats, len(rows), held, (rows[-1].updated_at, rows[-1].person_id)

    async def _silence_messages(
        self,
        conn: AsyncConnection,
        sends: Sequence[tuple[Row[Any], pacing.Rung, int]],
        now: dt.datetime,
        stats: TickStats,
    ) -> None:
        keys = {
            (row.person_id, rung.stage): f"{rung.kind}{rung.stage}:w{week}:p{row.person_id}"
            for row, rung, week in sends
        }
        new = await sched.claim_keys(
            conn,
            rows=[
                {
                    "key": keys[(row.person_id, rung.stage)],
                    "person_id": row.person_id,
                    "cohort_id": row.cohort_id,
                    "kind": rung.kind,
                    "week": week,
                    "due_at": rung.due_at or now,
                    "created_at": now,
                    "status": "queued",
                }
                for row, rung, week in sends
            ],
        )
        todo = [(r, g, w) for r, g, w in sends if keys[(r.person_id, g.stage)] in new]
        if not todo:
            return
        person_ids = sorted({row.person_id for row, _g, _w in todo})
        cohort_ids = sorted({row.cohort_id for row, _g, _w in todo})
        people = {p.person_id: p for p in await sched.person_contacts(conn, person_ids=person_ids)}
        staff: dict[int, list[Row[Any]]] = defaultdict(list)
        for fac in await sched.facilitators(conn, cohort_ids=cohort_ids):
            staff[fac.cohort_id].append(fac)
        shown = await sched.answers_of(conn, person_ids=person_ids, keys=[GOAL_KEY, PRODUCT_KEY])
        cohort_rows = await sched.cohort_names(conn, cohort_ids=cohort_ids)
        outbox: list[tuple[Any, ...]] = []
        for row, rung, week in todo:
            person = people.get(row.person_id)
            if person is None:
                continue
            cohort = cohort_rows.get(row.cohort_id)
            facs = staff.get(row.cohort_id, [])
            key = keys[(row.person_id, rung.stage)]
            goal = shown.get((row.person_id, GOAL_KEY), {})
            product = shown.get((row.person_id, PRODUCT_KEY), {})
            base = {
                "cohort_name": cohort.name if cohort else "",
                "facilitator": facs[0].name if facs else "",
                "goal": goal,
                "product": product,
            }
            if rung.kind == REMINDER:
                message = "nudges.reminder_first" if rung.stage == 1 else "nudges.reminder_second"
                self.queue(
                    outbox,
                    person,
                    message,
                    REMINDER,
                    key,
                    {
                        **base,
                        **self._week(week, person.language),
                        "meeting_day": self._day(
                            cohort.meeting_day if cohort else None, person.language
                        ),
                    },
                    stats,
                )
            elif rung.kind == ALERT:
                for fac in facs:
                    self.queue(
                        outbox,
                        fac,
                        "nudges.alert",
                        ALERT,
                        f"{key}:{fac.contact_id}",
                        {
                            **base,
                            **self._week(week, fac.language),
                            "participant": person.name or "?",
                            "days": (now - row.updated_at).days,
                        },
                        stats,
                        name=fac.name,
                    )
        await bulk.insert_outbox(conn, rows=outbox, now=now)

    # --- queueing ----------------------------------------------------------------------

    def queue(
        self,
        outbox: list[tuple[Any, ...]],
        person: Any,  # a Row or a Member: contact_id, name, language, opted_out, ...
        key: str,
        kind: str,
        dedupe: str,
        params: Mapping[str, Any],
        stats: TickStats,
        *,
        name: str | None = None,
    ) -> None:
        """Queue message `key` for `person`, in their language; the sender renders it
        (bot/core/deferred.py) in the markup of the channel that sends it."""
        if getattr(person, "opted_out", False) or getattr(person, "unreachable", False):
            return
        values = {"name": name if name is not None else (person.name or ""), **params}
        payload = deferred(key, locale_of(person.language), values, kind)
        outbox.append(
            (
                person.contact_id,
                orjson.dumps(payload).decode(),
                repo.PRIORITY_NUDGE,
                dedupe[:200],
                kind,
            )
        )
        stats.sent[kind] += 1

    def _week(self, week: int, language: str) -> dict[str, Any]:
        entry = self.content.program.week(week)
        locale = locale_of(language)
        return {"week": week, "title": entry.title[locale] if entry else ""}

    def _day(self, day: str | None, language: str) -> str:
        key = f"common.days.{day}"
        locale = locale_of(language)
        if day and self.content.renderer.has(key, locale):
            return self.content.renderer.render(key, locale, {})
        return day or ""


def _opening(event: Event) -> int:
    """The week an unlock opens, or 0 when the event opens none (week 1 opens on joining)."""
    return event.week if event.kind == UNLOCK and event.week and event.week > 1 else 0


__all__ = ["NEVER", "Scheduler", "TickStats", "calendar_of"]
