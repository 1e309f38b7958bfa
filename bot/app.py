"""The composition root: the features listed once, and the layers wired together.

Database, content, channels, dispatcher (inbound), sender (outbound), scheduler. Nothing
else imports the features: each exports one `Feature` (bot/core/feature.py) and this
module lists them in `FEATURES`.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.console import ConsoleChannel
from bot.core import dialog, scope, turn
from bot.core.channel import DeliveryReport, Outcome, Registry
from bot.core.clock import Clock, SimulatedClock, SystemClock
from bot.core.commands import Command, CommandTable
from bot.core.feature import Assembly, Feature, assemble
from bot.core.messages import InboundMessage
from bot.core.metrics import Metrics
from bot.features import (
    broadcasts,
    calendar,
    checkins,
    cohorts,
    enrolment,
    participant,
    privacy,
    programme,
    progress,
    retention,
    reviews,
)
from bot.inbound import routing
from bot.inbound.dispatcher import Dispatcher
from bot.outbound.delivery import apply_report
from bot.outbound.sender import Sender
from bot.scheduling import scheduler as scheduling
from bot.scheduling.scheduler import Scheduler
from content import check_cache
from content.checks import check_content
from content.loader import CONTENT_DIR, Content, ContentError, load_content
from storage import repo
from storage.db import make_engine, upgrade

FEATURES: tuple[Feature, ...] = (
    enrolment.FEATURE,
    participant.FEATURE,
    programme.FEATURE,
    reviews.FEATURE,
    broadcasts.FEATURE,
    checkins.FEATURE,
    calendar.FEATURE,
    cohorts.FEATURE,
    progress.FEATURE,
    privacy.FEATURE,
    retention.FEATURE,
)
# The messages the layers below the features say themselves.
KERNEL_MESSAGES: tuple[str, ...] = (
    *turn.MESSAGES,
    *routing.MESSAGES,
    *scheduling.MESSAGES,
    *dialog.MESSAGES,
    *scope.MESSAGES,
)
ASSEMBLY: Assembly = assemble(FEATURES, messages=KERNEL_MESSAGES)
# Every message the code (not a flow) sends; the content check insists on each.
REQUIRED_MESSAGES: tuple[str, ...] = ASSEMBLY.messages
SIMULATED_CLOCK_KEY = "clock.simulated_now"

log = logging.getLogger(__name__)


def load_checked_content(root: Path | str = CONTENT_DIR) -> Content:
    """Load the content and render every message once; refuse to start on a problem.

    A check this very content (and code) passed before is not redone
    (content/check_cache.py): it took two seconds of every start.
    """
    content = load_content(root)
    digest = check_cache.digest(content.root, REQUIRED_MESSAGES)
    if check_cache.passed_before(digest):
        return content
    problems = check_content(content, REQUIRED_MESSAGES)
    if problems:
        raise ContentError("\n".join(problems))
    check_cache.remember_passed(digest)
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
    metrics: Metrics | None = None  # what /metrics shows (None: not counted)

    async def close(self) -> None:
        await self.db.dispose()

    # --- what a channel adapter is given (bot/core/channel.py's Host) -----------------

    @property
    def commands(self) -> tuple[Command, ...]:
        return self.dispatcher.commands.commands

    async def receive(self, message: InboundMessage) -> Outcome:
        return await self.dispatcher.handle(message)

    async def report_delivery(self, report: DeliveryReport) -> None:
        if await apply_report(self.db, self.channels, self.clock, report):
            self.wake_sender()

    def wake_sender(self) -> None:
        self.sender.wake.set()

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

    async def release_left_claims(self, *, every_channel: bool = False) -> int:
        """On SQLite, where the process that sends is the only sender: give back what a
        stopped process had claimed and not marked ('sending'), so that it goes again
        now and nothing waits behind it. `jamaah run` releases every claim
        (`every_channel`); the console and the simulator those on the channels they run,
        so that a console chat beside a running bot leaves the bot's claims alone. On
        PostgreSQL a claim is taken again once it is stale (5 minutes of real time)."""
        if self.db.dialect.name != "sqlite":
            return 0
        channels = None if every_channel else self.channels.names()
        released = await self.sender.recover(channels)
        if released:
            log.warning("sending again %d message(s) claimed before the last stop", released)
        return released

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


def build_dispatcher(
    db: AsyncEngine,
    content: Content,
    channels: Registry,
    clock: Clock,
    assembly: Assembly = ASSEMBLY,
    default_language: str = "id",
    metrics: Metrics | None = None,
) -> Dispatcher:
    """The inbound side for these features (tests give it more, or fewer)."""
    return Dispatcher(
        db,
        content,
        channels,
        clock,
        default_language=default_language,
        commands=CommandTable(assembly.commands),
        hooks=assembly.hooks,
        routes=assembly.routes,
        metrics=metrics,
    )


async def open_app(
    url: str,
    *,
    simulated: bool = False,
    clock: Clock | None = None,
    out: TextIO | None = None,
    content: Content | None = None,
    default_language: str = "id",
    metrics: bool = True,
) -> App:
    """Check the content, upgrade the database and build the application (counting what
    it does for /metrics unless `metrics` is False)."""
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
    counted = Metrics() if metrics else None
    dispatcher = build_dispatcher(
        db, content, channels, clock, ASSEMBLY, default_language, metrics=counted
    )
    sender = Sender(db, channels, clock, renderer=content.renderer, metrics=counted)
    scheduler = Scheduler(
        db,
        content,
        channels,
        clock,
        on_queued=sender.wake.set,
        jobs=ASSEMBLY.jobs,
        metrics=counted,
    )
    # What start-up built (templates, statements, flows) lives as long as the process:
    # keep the cyclic garbage collector from scanning it again and again.
    gc.freeze()
    return App(db, content, channels, clock, dispatcher, sender, console, scheduler, counted)
