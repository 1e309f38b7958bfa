"""The daily retention run: at `JAMAAH_RETENTION_HOUR` (Asia/Jakarta time), once a day.

The scheduler calls every job at each tick; this one does nothing outside its hours,
and inside them the first worker to claim the day (storage/retention.py, `claim_day`)
runs the steps; the others, and later ticks, find the day claimed. A run the bot was
down for is made the next day (each step catches up on everything older than its cut).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.config import Settings, SettingsError
from bot.core.jobs import JobContext, TickStats
from bot.core.phones import mask_numbers
from flows.pacing import DEFAULT_TIMEZONE
from storage import retention

log = logging.getLogger(__name__)

ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # Indonesia's first zone: 03:00 WIB is 05:00 WIT
WINDOW_HOURS = 3  # a run not made in these hours (the bot was down) waits for tomorrow


def periods_of(settings: Settings, late_after: dt.timedelta) -> retention.Periods:
    """The retention periods the settings give (and the scheduler's look-back)."""
    months = settings.retention_ended_cohort_months
    return retention.Periods(
        inbound=dt.timedelta(days=settings.retention_inbound_days),
        outbox=dt.timedelta(days=settings.retention_outbox_days),
        nudges=dt.timedelta(days=settings.retention_nudge_days),
        audit=dt.timedelta(days=settings.retention_audit_days),
        scheduler_lookback=late_after + dt.timedelta(days=1),
        ended_cohort=dt.timedelta(days=round(30.44 * months)) if months else None,
    )


def summary(report: retention.Report) -> str:
    """The run's one log line: counts and times, nothing about anyone."""
    counts = ", ".join(f"{name} {n}" for name, n in report.counts().items())
    return (
        f"retention: pruned {counts} in {report.seconds:.1f} s; longest transaction "
        f"{report.longest_s * 1000:.0f} ms"
    )


class RetentionJob:
    """The job (bot/core/jobs.py's `Job`); the settings are read at its first tick."""

    def __init__(self, settings: Callable[[], Settings] = Settings) -> None:
        self._read_settings = settings
        self._settings: Settings | None = None
        # The database and local day this process saw claimed: no write at every tick.
        self._done: tuple[AsyncEngine, dt.date] | None = None

    async def __call__(self, context: JobContext, now: dt.datetime) -> TickStats:
        local = now.astimezone(ZONE)
        today = (context.db, local.date())
        if self._done is not None and self._done[0] is today[0] and self._done[1] == today[1]:
            return TickStats()
        try:
            settings = self._settings = self._settings or self._read_settings()
        except SettingsError as error:
            log.error(
                "retention: not run, a setting is wrong (%s); correct it and restart",
                mask_numbers(str(error)),
            )
            self._done = today
            return TickStats()
        if not 0 <= local.hour - settings.retention_hour < WINDOW_HOURS:
            return TickStats()
        async with context.db.begin() as conn:
            claimed = await retention.claim_day(conn, day=local.date(), now=now)
        self._done = today
        if not claimed:
            return TickStats()  # another worker runs (or ran) today's
        periods = periods_of(settings, context.schedule.late_after)
        report = await retention.run(context.db, now, periods)
        log.info(summary(report))
        return TickStats()
