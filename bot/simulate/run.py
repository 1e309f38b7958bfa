"""Whole cohorts through the programme on the simulated clock, with scripted people.

`simulate()` creates cohorts (each with a facilitator and a meeting day), has scripted
participants join through the real dispatcher on the console channel, then moves the
app's simulated clock on hour by hour (`App.advance_clock`: the scheduler's tick, then
the sender). The bot's messages reach a recording channel registered under the console
name; each participant reacts to them as their persona would:

- diligent: answers an unlock within a few hours and finishes the week the same day;
- late: starts two to four days after the unlock, sometimes leaves a week half done
  for a few days (a reminder brings them back sooner), catches up at their own pace;
- silent: joins and does week 1, then never answers again;
- stopper: diligent until a week drawn at random, then silent.

A participant acts by answering whatever the bot asks: the open question is read from
their session (flow and step) and the step's spec in the content, and a valid answer
of its type is typed (`answer_for`). When the bot asks the same question three times
in a row, the participant is recorded as stuck (a finding) and stops acting.

Everything is drawn from one seed, so a seed gives the same summary every time (all but
the wall time).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
import string
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import App, open_app
from bot.channels.console import CONSOLE, ConsoleChannel
from bot.core.calendar import calendar_of, stored_pauses
from bot.core.clock import SimulatedClock
from bot.core.messages import TEXT, InboundMessage, OutboundMessage, SendContext, SendResult
from bot.simulate.answers import FIRST_NAMES, VILLAGES, answer_for
from content.loader import Content
from flows import pacing
from flows.spec import Flow
from storage import calendar_repo, repo
from storage.db import make_engine, upgrade
from storage.models import Nudge, Outbox, Progress
from storage.repo import sessions

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
PERSONAS = ("diligent", "late", "silent", "stopper")
WEIGHTS = (0.45, 0.3, 0.1, 0.15)  # for participants after the first four of a cohort
MAX_WEEKS = pacing.WEEKS
MAX_PARTICIPANTS = 25
REPEATS_STUCK = 3  # the same question this many times in a row: stuck
MAX_MESSAGES_PER_SITTING = 400  # more than any week needs: stuck in a loop
MEETING_DAYS = ("kamis", "jumat", "sabtu", "rabu", "selasa")
FACILITATORS = ("Bu Ani", "Pak Budi", "Bu Sri", "Pak Joko", "Bu Wati", "Pak Made")


class _Sink(io.StringIO):
    """Where the app's own console channel would print: nowhere."""

    def write(self, text: str) -> int:
        return len(text)


class RecordingChannel(ConsoleChannel):
    """The console channel, but it keeps what each address got instead of printing it."""

    def __init__(self) -> None:
        super().__init__(_Sink())
        self.inbox: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.last_text: dict[str, str] = {}
        self.sent = 0
        self._sim_ids = itertools.count(1)

    async def send(
        self, address: str, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        self.inbox[address].append((message.kind, message.text))
        self.last_text[address] = message.text
        self.sent += 1
        return SendResult(external_id=f"sim-{next(self._sim_ids)}")

    def take(self) -> dict[str, list[tuple[str, str]]]:
        got, self.inbox = self.inbox, defaultdict(list)
        return got


# --- answering whatever the bot asks -------------------------------------------------------


# --- the people ------------------------------------------------------------------------------


@dataclass
class Person:
    address: str
    name: str
    village: str
    persona: str
    cohort: int  # index into the run's cohorts
    join_code: str
    rng: random.Random
    stop_week: int = MAX_WEEKS + 1  # stoppers fall silent from this week on
    person_id: int | None = None
    wake_at: dt.datetime | None = None
    budget: int | None = None  # the next sitting stops after this many answers
    last: tuple[str, str] | None = None  # the question answered last
    repeats: int = 0  # how many times in a row that question came back
    quiet: bool = False  # acts no more
    stuck: dict[str, Any] | None = None
    starts: Counter[str] = field(default_factory=Counter)  # times each week flow began
    messages: int = 0  # messages this person sent
    behind: int = 0  # weeks finished after the next one had opened
    received: Counter[str] = field(default_factory=Counter)  # the bot's, by kind


@dataclass
class CohortInfo:
    id: int
    code: str
    timezone: str
    facilitator: str
    meeting_day: str


@dataclass
class Options:
    cohorts: int = 1
    participants: int = 25
    weeks: int = MAX_WEEKS
    seed: int = 1
    start: dt.date = dt.date(2027, 1, 4)
    # Every cohort pauses over these days (first, last), as a facilitator's /jeda would;
    # the run lasts that much longer, so the same weeks are reached.
    pause: tuple[dt.date, dt.date] | None = None


class Simulation:
    def __init__(self, app: App, options: Options, channel: RecordingChannel) -> None:
        self.app, self.options, self.channel = app, options, channel
        self.content: Content = app.content
        self.rng = random.Random(options.seed)
        self.people: list[Person] = []
        self.by_address: dict[str, Person] = {}
        self.cohorts: list[CohortInfo] = []
        self._ids = itertools.count(1)
        # What reached participants on a day their cohort was paused, by kind: the
        # pause's own messages (broadcast) and replies to what they wrote, nothing else.
        self.during_pause: Counter[str] = Counter()

    # --- setting up ----------------------------------------------------------------

    async def create_cohorts(self) -> None:
        opts, now = self.options, self.app.clock.now()
        run = "".join(self.rng.choice(string.ascii_uppercase) for _ in range(4))
        async with self.app.db.begin() as conn:
            for k in range(opts.cohorts):
                code = f"SIM-{run}-{k + 1:02d}"
                zone = ZONES[k % len(ZONES)]
                join_code = "".join(
                    self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(7)
                )
                cohort_id = await repo.create_cohort(
                    conn,
                    code=code,
                    name=f"Jamaah Simulasi {k + 1}",
                    region=f"simulasi/{zone.split('/')[1].lower()}",
                    start_date=opts.start,
                    timezone=zone,
                    capacity=MAX_PARTICIPANTS,
                    language="id",
                    join_code=join_code,
                    now=now,
                )
                day = MEETING_DAYS[k % len(MEETING_DAYS)]
                await conn.execute(
                    repo.cohorts.update()
                    .where(repo.cohorts.c.id == cohort_id)
                    .values(meeting_day=day, meeting_time="16:00")
                )
                if opts.pause is not None:
                    first, last = opts.pause
                    pause = pacing.Pause(first, last, "Jeda simulasi", 1)
                    await calendar_repo.set_pauses(
                        conn, cohort_id=cohort_id, pauses=stored_pauses([pause]), now=now
                    )
                facilitator = FACILITATORS[k % len(FACILITATORS)]
                person_id, _ = await repo.create_person(
                    conn,
                    channel=CONSOLE,
                    address=f"fasil-{code}",
                    display_name=facilitator,
                    language="id",
                    now=now,
                    name=facilitator,
                )
                await repo.add_membership(
                    conn, person_id=person_id, role="facilitator", cohort_id=cohort_id, now=now
                )
                self.cohorts.append(CohortInfo(cohort_id, code, zone, facilitator, day))
                self._add_people(k, code, join_code)

    def _add_people(self, k: int, code: str, join_code: str) -> None:
        opts = self.options
        personas = list(PERSONAS[: min(opts.participants, len(PERSONAS))])
        personas += self.rng.choices(PERSONAS, WEIGHTS, k=opts.participants - len(personas))
        self.rng.shuffle(personas)
        for i, persona in enumerate(personas):
            rng = random.Random(f"{opts.seed}:{k}:{i}")
            person = Person(
                address=f"{code.lower()}-p{i + 1:02d}",
                name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {k + 1}.{i + 1}",
                village=VILLAGES[k % len(VILLAGES)],
                persona=persona,
                cohort=k,
                join_code=join_code,
                rng=rng,
            )
            if persona == "late":
                person.budget = 0  # joins, then starts week 1 a few days later
            if persona == "stopper":
                person.stop_week = rng.randint(2, opts.weeks) if opts.weeks >= 2 else 2
            # Everyone joins on the start day, some time between 08:00 and 18:00 local.
            zone = ZoneInfo(ZONES[k % len(ZONES)])
            at = dt.datetime.combine(opts.start, dt.time(8), tzinfo=zone)
            person.wake_at = (at + rng.randint(0, 10) * HOUR).astimezone(dt.UTC)
            self.people.append(person)
            self.by_address[person.address] = person

    # --- talking ---------------------------------------------------------------------

    async def say(self, person: Person, text: str) -> None:
        message = InboundMessage(
            channel=CONSOLE,
            address=person.address,
            external_id=f"sim-in-{next(self._ids)}",
            kind=TEXT,
            text=text,
            display_name=person.name,
        )
        await self.app.dispatcher.handle(message)
        person.messages += 1

    async def session(self, person: Person) -> tuple[str, str, dict[str, Any]] | None:
        if person.person_id is None:
            async with self.app.db.connect() as conn:
                identity = await repo.find_identity(conn, channel=CONSOLE, address=person.address)
            if identity is None:
                return None
            person.person_id = identity.person_id
        async with self.app.db.connect() as conn:
            row = (
                await conn.execute(
                    select(sessions.c.flow, sessions.c.step, sessions.c.state).where(
                        sessions.c.person_id == person.person_id
                    )
                )
            ).first()
        return (row.flow, row.step, dict(row.state or {})) if row else None

    async def done_weeks(self, person: Person) -> set[int]:
        if person.person_id is None:
            return set()
        info = self.cohorts[person.cohort]
        async with self.app.db.connect() as conn:
            rows = await repo.list_progress(conn, person_id=person.person_id, cohort_id=info.id)
        return {r.week for r in rows if r.status == "done"}

    async def next_open_week(self, person: Person) -> int | None:
        """The week this person may start now (behind the calendar), if any."""
        done = await self.done_weeks(person)
        week = next((w for w in range(1, MAX_WEEKS + 1) if w not in done), None)
        if week is None or week >= person.stop_week or self.content.flow_for_week(week) is None:
            return None
        async with self.app.db.connect() as conn:
            cohort = await repo.get_cohort(conn, cohort_id=self.cohorts[person.cohort].id)
        assert cohort is not None
        cal = calendar_of(cohort)
        schedule = self.content.program.schedule
        now = self.app.clock.now()
        return week if pacing.may_start(week, done, cal, now, schedule) else None

    async def sitting(self, person: Person) -> None:
        """The person sits down and answers until the week is done (or part of it)."""
        zone = ZoneInfo(self.cohorts[person.cohort].timezone)
        today = self.app.clock.now().astimezone(zone).date()
        budget, person.budget = person.budget, None
        answered = sent = 0
        if person.person_id is None:  # not in the bot yet: join
            await self.say(person, f"/mulai {person.join_code}")
            sent += 1
        while sent < MAX_MESSAGES_PER_SITTING:
            current = await self.session(person)
            if current is None:
                await self._between_weeks(person)
                if person.wake_at is None and await self._goes_on(person):
                    await self.say(person, "halo")
                    sent += 1
                    continue
                return
            flow_id, step_id, state = current
            flow = self.content.flows.get(flow_id)
            if flow is None or step_id not in flow.index:
                await self._stuck(
                    person, None, step_id, f"a session in an unknown flow {flow_id!r}"
                )
                return
            if state.get("pending_start"):  # a week the scheduler opened: any message starts it
                await self.say(person, person.rng.choice(("halo", "siap", "mulai kak")))
                sent += 1
                continue
            if budget is not None and answered >= budget and flow.week is not None:
                # Leaves the week part done; comes back in a few days (or when reminded).
                later = self.app.clock.now() + DAY * person.rng.uniform(2, 4)
                person.wake_at = self._daytime(person, later)
                return
            here = (flow_id, step_id)
            if here == person.last:
                person.repeats += 1
                if person.repeats + 1 >= REPEATS_STUCK:
                    await self._stuck(
                        person, flow, step_id, "the bot asked the same question 3 times"
                    )
                    return
            else:
                person.repeats = 0
                if flow.week is not None and step_id == flow.steps[0].id:
                    person.starts[flow_id] += 1
                    if person.starts[flow_id] >= REPEATS_STUCK:
                        await self._stuck(person, flow, step_id, "the week began 3 times")
                        return
            step = flow.step(step_id)
            text = answer_for(
                step, rng=person.rng, name=person.name, village=person.village, today=today
            )
            person.last = here
            await self.say(person, text)
            sent += 1
            if flow.week is not None:
                answered += 1
        await self._stuck(
            person, None, "", f"more than {MAX_MESSAGES_PER_SITTING} messages at once"
        )

    async def _goes_on(self, person: Person) -> bool:
        """Whether the person starts the next week right away (it is open, they are keen)."""
        if person.quiet or person.persona not in ("diligent", "stopper"):
            return False
        return await self.next_open_week(person) is not None

    async def _between_weeks(self, person: Person) -> None:
        """After a week: silent people fall quiet once week 1 is done; late people who
        are behind the calendar come back for the next week in a day or two."""
        if person.persona == "silent":
            if 1 in await self.done_weeks(person):
                person.quiet = True
        elif person.persona == "late" and await self.next_open_week(person) is not None:
            # Behind the calendar: the next week opened while this one was still open,
            # so no unlock comes for it and, with no session open, no reminder either.
            # These people come back on their own here; real ones may not.
            person.behind += 1
            later = self.app.clock.now() + DAY * person.rng.uniform(1, 2)
            person.wake_at = self._daytime(person, later)

    async def _stuck(self, person: Person, flow: Flow | None, step: str, detail: str) -> None:
        await self.app.sender.drain()  # what the bot said last reaches the recorder
        person.stuck = {
            "participant": person.address,
            "persona": person.persona,
            "flow": flow.id if flow else None,
            "step": step,
            "detail": detail,
            "bot_said": self.channel.last_text.get(person.address, "")[:300],
            "at": self.app.clock.now().isoformat(),
        }
        person.quiet = True
        person.wake_at = None

    def _daytime(self, person: Person, when: dt.datetime) -> dt.datetime:
        """`when`, or the next morning when it falls at night where the person lives."""
        zone = ZoneInfo(self.cohorts[person.cohort].timezone)
        local = when.astimezone(zone)
        if 7 <= local.hour < 21:
            return when
        day = local.date() + (dt.timedelta(days=1) if local.hour >= 21 else dt.timedelta())
        morning = dt.datetime.combine(day, dt.time(7), tzinfo=zone)
        return (morning + HOUR * person.rng.randint(0, 4)).astimezone(dt.UTC)

    # --- reacting to the bot's messages ------------------------------------------------------

    async def react(self, person: Person, kind: str) -> None:
        now = self.app.clock.now()
        if person.quiet or person.stuck:
            return
        if kind == "unlock":
            current = await self.session(person)
            flow = self.content.flows.get(current[0]) if current else None
            if flow is not None and flow.week is not None and flow.week >= person.stop_week:
                person.quiet = True  # a stopper stops here
                return
            if person.persona == "late":
                person.budget = person.rng.randint(2, 6) if person.rng.random() < 0.4 else None
                delay = DAY * person.rng.randint(2, 4) + HOUR * person.rng.randint(0, 6)
            else:
                delay = HOUR * person.rng.randint(1, 4)
            person.wake_at = self._daytime(person, now + delay)
        elif kind == "reminder":
            soon = self._daytime(person, now + HOUR * person.rng.randint(2, 10))
            if person.wake_at is None or person.wake_at > soon:
                person.wake_at = soon

    def _count_paused(self, person: Person, now: dt.datetime, got: list[tuple[str, str]]) -> None:
        if self.options.pause is None:
            return
        first, last = self.options.pause
        # The hour's messages went out in the hour before `now`, in the cohort's zone.
        day = (now - HOUR).astimezone(ZoneInfo(self.cohorts[person.cohort].timezone)).date()
        if first <= day <= last:
            self.during_pause.update(kind for kind, _text in got)

    # --- the run ----------------------------------------------------------------------------

    async def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        opts = self.options
        length = (opts.pause[1] - opts.pause[0] + DAY) if opts.pause else dt.timedelta(0)
        end = dt.datetime.combine(
            opts.start + dt.timedelta(weeks=opts.weeks) + length,
            dt.time(0),
            tzinfo=ZoneInfo(ZONES[0]),
        ).astimezone(dt.UTC)
        begin = self.app.clock.now()
        total_days = max(1, round((end - begin) / DAY))
        shown = -1
        while self.app.clock.now() < end:
            await self.app.advance_clock(HOUR)
            now = self.app.clock.now()
            for address, got in self.channel.take().items():
                person = self.by_address.get(address)
                if person is None:
                    continue
                person.received.update(kind for kind, _text in got)
                self._count_paused(person, now, got)
                for kind in sorted({kind for kind, _text in got}):
                    await self.react(person, kind)
            acted = False
            for person in self.people:
                if person.quiet or person.wake_at is None or person.wake_at > now:
                    continue
                person.wake_at = None
                await self.sitting(person)
                acted = True
            if acted:
                await self.app.sender.drain()
            day = int((now - begin) / DAY)
            if progress is not None and day != shown:
                shown = day
                progress(min(day, total_days), total_days)
        for address, got in self.channel.take().items():
            if address in self.by_address:
                self.by_address[address].received.update(kind for kind, _text in got)


# --- the summary ------------------------------------------------------------------------------


async def summarise(sim: Simulation, wall_s: float) -> dict[str, Any]:
    app, opts = sim.app, sim.options
    cohort_ids = [c.id for c in sim.cohorts]
    async with app.db.connect() as conn:
        kinds = {
            row.kind: row.n
            for row in await conn.execute(
                select(Outbox.kind, func.count().label("n")).group_by(Outbox.kind)
            )
        }
        statuses = {
            row.status: row.n
            for row in await conn.execute(
                select(Outbox.status, func.count().label("n")).group_by(Outbox.status)
            )
        }
        alerted = {
            row.person_id: row.n
            for row in await conn.execute(
                select(Nudge.person_id, func.count().label("n"))
                .where(Nudge.cohort_id.in_(cohort_ids), Nudge.kind == "alert")
                .group_by(Nudge.person_id)
            )
        }
        nudges = {
            row.kind: row.n
            for row in await conn.execute(
                select(Nudge.kind, func.count().label("n"))
                .where(Nudge.cohort_id.in_(cohort_ids))
                .group_by(Nudge.kind)
            )
        }
        done_rows = (
            await conn.execute(
                select(Progress.person_id, Progress.week).where(
                    Progress.cohort_id.in_(cohort_ids), Progress.status == "done"
                )
            )
        ).all()
    done: dict[int, set[int]] = defaultdict(set)
    for row in done_rows:
        done[row.person_id].add(row.week)
    completion = {
        week: sum(1 for weeks in done.values() if week in weeks)
        for week in range(1, opts.weeks + 1)
    }
    personas: dict[str, dict[str, Any]] = {}
    for name in PERSONAS:
        group = [p for p in sim.people if p.persona == name]
        if not group:
            continue
        reached = [len(done.get(p.person_id or -1, set())) for p in group]
        personas[name] = {
            "participants": len(group),
            "weeks_done_min": min(reached),
            "weeks_done_max": max(reached),
            "weeks_done_mean": round(sum(reached) / len(reached), 2),
            "finished_all": sum(1 for r in reached if r >= opts.weeks),
        }
    people = [
        {
            "participant": p.address,
            "persona": p.persona,
            "weeks_done": sorted(done.get(p.person_id or -1, set())),
            "stop_week": p.stop_week if p.persona == "stopper" else None,
            "messages": p.messages,
            "received": dict(sorted(p.received.items())),
            "alerts_about": alerted.get(p.person_id or -1, 0),
            "stuck": p.stuck is not None,
            "behind": p.behind,
        }
        for p in sim.people
    ]
    return {
        "cohorts": opts.cohorts,
        "participants_per_cohort": opts.participants,
        "weeks": opts.weeks,
        "seed": opts.seed,
        "start": opts.start.isoformat(),
        "pause": [d.isoformat() for d in opts.pause] if opts.pause else None,
        "during_pause_by_kind": dict(sorted(sim.during_pause.items())),
        "timezones": sorted({c.timezone for c in sim.cohorts}),
        "messages_by_kind": dict(sorted(kinds.items())),
        "messages_total": sum(kinds.values()),
        "outbox_status": dict(sorted(statuses.items())),
        "delivered": sim.channel.sent,
        "inbound_messages": sum(p.messages for p in sim.people),
        "completion_by_week": completion,
        "reminders_sent": kinds.get("reminder", 0),
        "alerts_raised": nudges.get("alert", 0),
        "nudges_by_kind": dict(sorted(nudges.items())),
        "personas": personas,
        "people": people,
        "stuck": [p.stuck for p in sim.people if p.stuck],
        # Weeks finished after the next one had opened: nothing from the bot follows
        # (no unlock, no reminder without an open session); see Simulation._between_weeks.
        "behind_without_prompt": sum(p.behind for p in sim.people),
        "wall_time_s": round(wall_s, 2),
    }


def format_summary(summary: dict[str, Any]) -> str:
    total = summary["cohorts"] * summary["participants_per_cohort"]
    lines = [
        f"Simulated {summary['cohorts']} cohort(s) x {summary['participants_per_cohort']} "
        f"participants ({total}) for {summary['weeks']} week(s) from {summary['start']}, "
        f"seed {summary['seed']} ({', '.join(summary['timezones'])})",
        f"Wall time: {summary['wall_time_s']:.1f} s",
        "",
        f"Messages sent by the bot: {summary['messages_total']} "
        f"(participants sent {summary['inbound_messages']})",
    ]
    for kind, n in summary["messages_by_kind"].items():
        lines.append(f"  {kind:<10} {n:>7}")
    status = ", ".join(f"{k} {v}" for k, v in summary["outbox_status"].items())
    lines += [f"  outbox: {status}", "", "Completion by week (participants who finished it):"]
    for week, n in summary["completion_by_week"].items():
        bar = "#" * round(30 * n / total) if total else ""
        lines.append(f"  week {week:>2}: {n:>4}/{total}  {bar}")
    lines += [
        "",
        f"Reminders sent: {summary['reminders_sent']}",
        f"Facilitator alerts raised: {summary['alerts_raised']} "
        f"({summary['messages_by_kind'].get('alert', 0)} alert messages)",
        "",
        "Personas (weeks done: min / mean / max; finished every week):",
    ]
    for name, p in summary["personas"].items():
        lines.append(
            f"  {name:<9} {p['participants']:>4}  {p['weeks_done_min']} / "
            f"{p['weeks_done_mean']} / {p['weeks_done_max']}  "
            f"finished all: {p['finished_all']}"
        )
    lines.append(
        "Weeks finished after the next had opened (the bot sends nothing for those): "
        f"{summary['behind_without_prompt']}"
    )
    if summary["pause"]:
        during = ", ".join(f"{k} {v}" for k, v in summary["during_pause_by_kind"].items())
        lines.append(
            f"Paused {summary['pause'][0]} to {summary['pause'][1]}; what reached "
            f"participants then: {during or 'nothing'}"
        )
    stuck = summary["stuck"]
    lines += ["", f"Stuck participants: {len(stuck)}"]
    for s in stuck:
        lines.append(
            f"  {s['participant']} ({s['persona']}) at {s['flow']}/{s['step']}: {s['detail']}"
        )
        if s["bot_said"]:
            lines.append(f"    the bot said: {s['bot_said'][:160]!r}")
    return "\n".join(lines) + "\n"


# --- progress on stderr ----------------------------------------------------------------------


def progress_printer(stream: TextIO | None = None) -> Callable[[int, int], None]:
    """Days done / total: a bar redrawn in place on a terminal, a line a week otherwise."""
    out = stream if stream is not None else sys.stderr
    tty = out.isatty()

    def show(day: int, total: int) -> None:
        if tty:
            width = 30
            filled = round(width * day / total)
            out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] day {day}/{total}")
            if day >= total:
                out.write("\n")
        elif day % 7 == 0 or day >= total:
            out.write(f"simulated week {day // 7}: day {day}/{total}\n")
        out.flush()

    return show


# --- putting it together ---------------------------------------------------------------------


async def simulate(
    url: str,
    options: Options,
    *,
    content: Content | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the simulation on the database at `url` and return the summary."""
    began = time.perf_counter()
    zone = ZoneInfo(ZONES[-1])  # the earliest of the three: midnight there comes first
    clock = SimulatedClock(
        dt.datetime.combine(options.start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    )
    app = await open_app(url, clock=clock, out=_Sink(), content=content)
    try:
        channel = RecordingChannel()
        app.channels.register(channel)
        await app.release_left_claims()  # a simulation stopped while sending, on this db
        sim = Simulation(app, options, channel)
        await sim.create_cohorts()
        await sim.run(progress)
        return await summarise(sim, time.perf_counter() - began)
    finally:
        await app.close()


async def has_cohorts(url: str) -> bool:
    """Whether the database already holds cohorts (it is upgraded first)."""
    db = make_engine(url)
    try:
        await upgrade(db)
        async with db.connect() as conn:
            return bool(await repo.list_cohorts(conn))
    finally:
        await db.dispose()


__all__ = [
    "Options",
    "RecordingChannel",
    "answer_for",
    "format_summary",
    "has_cohorts",
    "progress_printer",
    "simulate",
]
