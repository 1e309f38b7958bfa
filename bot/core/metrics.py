"""What the bot counts for an operator's Prometheus: messages in and out, the queue, ticks.

One `Metrics` per application, each with a registry of its own (not prometheus-client's
global one), so two applications in one process (tests, the simulator) never add to
each other's figures. The layers that do the work count as they go (the dispatcher
inbound, the sender what went, failed or was refused, the scheduler its ticks and
nudges); what the database holds (the queue, cohorts, participants) is read when
/metrics is asked for (`refresh`), with a few cheap queries.

No label holds anything about a person: labels are channel names (console, telegram,
whatsapp), outbox statuses, nudge kinds and week numbers, all fixed sets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import metrics_repo

CONTENT_TYPE = CONTENT_TYPE_LATEST
# The channels' codes for "too many requests": Telegram's HTTP 429, Twilio's 20429 and
# WhatsApp's 63018 (bot/channels/telegram.py, whatsapp.py).
REFUSED = frozenset({"429", "20429", "63018"})
# An interactive reply should leave within seconds; a reply held behind a 429 or a
# channel outage takes minutes. Buckets cover both.
REPLY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
TICK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.inbound = Counter(
            "jamaah_inbound_messages",
            "Messages received (a redelivered one is not counted again), by channel.",
            ["channel"],
            registry=r,
        )
        self.sent = Counter(
            "jamaah_messages_sent",
            "Outbox messages the channel accepted, by channel.",
            ["channel"],
            registry=r,
        )
        self.failed = Counter(
            "jamaah_messages_failed",
            "Outbox messages given up on (status failed), by channel.",
            ["channel"],
            registry=r,
        )
        self.retried = Counter(
            "jamaah_messages_retried",
            "Send attempts that failed and will be tried again, by channel.",
            ["channel"],
            registry=r,
        )
        self.refused = Counter(
            "jamaah_messages_refused",
            "Send attempts the channel refused for going too fast (HTTP 429), by channel.",
            ["channel"],
            registry=r,
        )
        self.reply_seconds = Histogram(
            "jamaah_reply_seconds",
            "From an inbound message to its reply being sent, by channel.",
            ["channel"],
            buckets=REPLY_BUCKETS,
            registry=r,
        )
        self.tick_seconds = Histogram(
            "jamaah_scheduler_tick_seconds",
            "How long one scheduler tick took.",
            buckets=TICK_BUCKETS,
            registry=r,
        )
        self.nudges = Counter(
            "jamaah_nudges_queued",
            "Scheduled messages the scheduler queued, by kind (unlock, reminder, ...).",
            ["kind"],
            registry=r,
        )
        self.outbox = Gauge(
            "jamaah_outbox_messages",
            "Outbox rows by status and channel (sent rows are counted by"
            " jamaah_messages_sent_total instead).",
            ["status", "channel"],
            registry=r,
        )
        self.oldest_pending = Gauge(
            "jamaah_outbox_oldest_pending_seconds",
            "Age of the oldest message that is due and not yet sent (0 when none waits).",
            registry=r,
        )
        self.cohorts = Gauge("jamaah_cohorts", "Cohorts in the database.", registry=r)
        self.participants = Gauge("jamaah_participants", "Participants in all cohorts.", registry=r)
        self.finished = Gauge(
            "jamaah_participants_finished_week",
            "Participants who have finished each week of the programme.",
            ["week"],
            registry=r,
        )
        self._inbound: dict[str, Counter] = {}

    # --- counted as the work is done ---------------------------------------------------

    def count_inbound(self, channel: str) -> None:
        child = self._inbound.get(channel)
        if child is None:  # labels() takes a lock and a lookup: keep the child
            child = self._inbound[channel] = self.inbound.labels(channel)
        child.inc()

    def count_sent(self, channel: str, reply_age: dt.timedelta | None = None) -> None:
        self.sent.labels(channel).inc()
        if reply_age is not None:
            self.reply_seconds.labels(channel).observe(max(reply_age.total_seconds(), 0.0))

    def count_failed(self, channel: str) -> None:
        self.failed.labels(channel).inc()

    def count_retry(self, channel: str, *, refused: bool) -> None:
        self.retried.labels(channel).inc()
        if refused:
            self.refused.labels(channel).inc()

    def count_tick(self, seconds: float, queued: Mapping[str, int]) -> None:
        self.tick_seconds.observe(seconds)
        for kind, n in queued.items():
            if n:
                self.nudges.labels(kind).inc(n)

    # --- read from the database when scraped ---------------------------------------------

    async def refresh(self, db: AsyncEngine, now: dt.datetime) -> None:
        # begin(), not connect(): see bot/web.py's healthz
        async with db.begin() as conn:
            figures = await metrics_repo.read(conn, now=now)
        self.outbox.clear()
        for (status, channel), n in figures.outbox.items():
            self.outbox.labels(status, channel).set(n)
        self.oldest_pending.set(figures.oldest_pending_s)
        self.cohorts.set(figures.cohorts)
        self.participants.set(figures.participants)
        for week, n in enumerate(figures.finished, start=1):
            self.finished.labels(str(week)).set(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
