"""Drains the outbox: claims due messages, sends them, then marks them.

A row is claimed ('sending') in one transaction, sent, and marked in another, so a
crash between the two resends at most what was in flight (a claim older than
`stale_after` of real time is claimed again; on SQLite the next process that sends gives
every claim back at start, `App.release_left_claims`). Replies go before nudges, nudges
before broadcasts.
Failure classes decide what happens next: retry with backoff (or the channel's
retry_after), fail permanently with the reason, or mark the contact unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Registry, UnknownChannel, split_text
from bot.core.clock import Clock, SystemClock
from bot.core.deferred import RenderFailed, is_deferred, resolve
from bot.core.messages import (
    HELD,
    OPTED_OUT,
    REPLY,
    RETRY,
    UNREACHABLE,
    OutboundMessage,
    SendContext,
    SendError,
)
from bot.core.metrics import REFUSED, Metrics
from bot.outbound.ratelimit import ChatPacer, SlidingWindow
from content.render import Renderer
from storage import repo, retention

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Pace a little under a channel's published limits, so that network jitter bunching
# requests together never tips us over them (a 429 costs a whole retry_after).
HEADROOM = 0.98  # overall: `rate` messages in any 1/0.98 s
CHAT_HEADROOM = 0.95  # one chat: a gap of 1/0.95 s at 1 message a second
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 3600.0


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


def backoff(attempts: int) -> dt.timedelta:
    """5 s, 10 s, 20 s, ... up to an hour, for the n-th failed attempt."""
    return dt.timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


class Sender:
    """Sends what the outbox holds, at each channel's pace, most urgent first.

    Each channel has a sliding window for its overall rate and a pacer per chat
    (`Capabilities.rate_per_s`, `per_chat_per_s`). Messages to different chats go out
    concurrently; a chat has one message in flight at a time, in order (the claim only
    takes a chat's first waiting message). A reply claimed while a broadcast drains is
    served by the channel's limiter before the broadcast messages waiting there.
    """

    def __init__(
        self,
        db: AsyncEngine,
        channels: Registry,
        clock: Clock,
        *,
        batch: int = 50,
        stale_after: dt.timedelta = dt.timedelta(minutes=5),
        horizon_s: float = 1.0,
        renderer: Renderer | None = None,
        wall: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db, self.channels, self.clock = db, channels, clock
        # Claims are stamped, and judged stale, by real time: the simulated clock of the
        # console stands still, and the simulator's jumps.
        self.wall = wall or SystemClock()
        self.renderer = renderer  # renders the messages queued to be rendered when sent
        self.batch, self.stale_after = batch, stale_after
        self.horizon_s = horizon_s  # claim about this many seconds of sending ahead
        self.wake = asyncio.Event()
        self._buckets: dict[str, SlidingWindow] = {}
        self._pacers: dict[str, ChatPacer] = {}
        self._draining = asyncio.Lock()
        self.metrics = metrics

    def _bucket(self, name: str) -> SlidingWindow:
        if name not in self._buckets:
            rate = self.channels.capabilities(name).rate_per_s
            limit = max(1, int(rate))
            self._buckets[name] = SlidingWindow(limit, limit / rate / HEADROOM)
        return self._buckets[name]

    def _pacer(self, name: str) -> ChatPacer:
        if name not in self._pacers:
            rate = self.channels.capabilities(name).per_chat_per_s
            self._pacers[name] = ChatPacer(1.0 / rate / CHAT_HEADROOM)
        return self._pacers[name]

    def _markup(self, name: str) -> str:
        try:
            return self.channels.capabilities(name).markup
        except UnknownChannel:
            return "plain"  # it fails as 'no channel' when it is sent

    def _room(self, name: str) -> int:
        """How many messages of a channel may be claimed and waiting at once."""
        rate = self.channels.capabilities(name).rate_per_s
        return max(2, min(self.batch * 20, int(rate * self.horizon_s) + 1))

    async def recover(self, channels: Sequence[str] | None = None) -> int:
        """On start-up of the only sender (SQLite): resend what a stopped run had
        claimed but not marked (only to contacts on `channels`, when given). Returns how
        many messages that was."""
        async with self.db.begin() as conn:
            return await repo.release_claims(conn, channels=channels)

    async def drain(self) -> DrainStats:
        """Send everything that is due now; return what happened."""
        async with self._draining:
            return await self._drain()

    async def _drain(self) -> DrainStats:
        stats = DrainStats()
        stopped: set[int] = set()  # contacts found blocked or opted out during this drain
        inflight: dict[asyncio.Task[None], str] = {}
        known = self.channels.names()
        try:
            return await self._drain_loop(stats, stopped, inflight, known)
        finally:  # stopped (shutdown): what was claimed and not sent goes after a restart
            for task in inflight:
                task.cancel()

    async def _drain_loop(
        self,
        stats: DrainStats,
        stopped: set[int],
        inflight: dict[asyncio.Task[None], str],
        known: list[str],
    ) -> DrainStats:
        while True:
            self.wake.clear()
            claimed = 0
            for name in known:
                room = self._room(name) - sum(1 for c in inflight.values() if c == name)
                if room <= 0:
                    continue
                rows = await self._claim(limit=room, channels=[name])
                claimed += len(rows)
                for row in rows:
                    task = asyncio.create_task(self._guarded(row, stats, stopped))
                    inflight[task] = name
            strays = await self._claim(limit=self.batch, other_than=known)
            for row in strays:  # contacts on a channel this process does not run
                await self._guarded(row, stats, stopped)
            if not inflight:
                if not claimed and not strays:
                    return stats
                continue
            waker: asyncio.Task[Any] = asyncio.create_task(self.wake.wait())
            waiting: list[asyncio.Task[Any]] = [*inflight, waker]
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            waker.cancel()
            for finished in done:
                if finished is not waker:
                    inflight.pop(finished, None)

    async def _claim(
        self,
        *,
        limit: int,
        channels: list[str] | None = None,
        other_than: list[str] | None = None,
    ) -> Sequence[Row[Any]]:
        async with self.db.begin() as conn:
            return await repo.claim_due(
                conn,
                now=self.clock.now(),
                limit=limit,
                stale_after=self.stale_after,
                claimed_at=self.wall.now(),
                max_attempts=MAX_ATTEMPTS,
                channels=channels,
                other_than=other_than,
            )

    async def _guarded(self, row: Row[Any], stats: DrainStats, stopped: set[int]) -> None:
        try:
            await self._deliver(row, stats, stopped)
        except asyncio.CancelledError:
            raise  # the row stays claimed and is sent again after a restart
        except Exception:  # the row stays claimed and is tried again when stale
            log.exception(
                "delivering outbox %s failed; going on with the rest",
                row.id,
                extra={"outbox_id": row.id},
            )

    async def run(self, idle_s: float = 1.0) -> None:
        """Drain forever, waking when a message is queued (`wake.set()`) or every idle_s."""
        while True:
            try:
                await self.drain()
            except Exception:  # keep draining after a database hiccup
                log.exception("draining the outbox failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle_s)

    async def _deliver(self, row: Row[Any], stats: DrainStats, stopped: set[int]) -> None:
        outbox_id, contact_id = row.id, row.contact_id
        # The opt-out confirmation (and the reminder of how to resume) is let through.
        stopping = row.opted_out or contact_id in stopped
        if row.unreachable or (stopping and not row.payload.get("to_opted_out")):
            reason = "opted out" if row.opted_out else "unreachable"
            async with self.db.begin() as conn:
                await repo.mark_failed(conn, outbox_id=outbox_id, error=reason, status="skipped")
            stats.skipped += 1
            return
        if retention.is_pruned(row.payload):  # a late report asked again for an old one
            async with self.db.begin() as conn:
                await repo.mark_failed(
                    conn,
                    outbox_id=outbox_id,
                    error="its text was removed by the retention job; nothing was sent",
                )
            stats.failed += 1
            self._count_failed(row)
            return
        try:
            payload = row.payload
            if is_deferred(payload):  # a nudge: rendered now, in its locale and our markup
                payload = resolve(payload, self.renderer, self._markup(row.channel))
            message = OutboundMessage.from_payload(payload)
            done = int(row.payload.get("parts_sent", 0))  # parts a failed attempt delivered
        except RenderFailed as error:
            async with self.db.begin() as conn:
                await repo.mark_failed(conn, outbox_id=outbox_id, error=str(error)[:500])
            stats.failed += 1
            self._count_failed(row)
            return
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            async with self.db.begin() as conn:
                await repo.mark_failed(
                    conn, outbox_id=outbox_id, error=f"unreadable message: {error!r}"[:500]
                )
            stats.failed += 1
            self._count_failed(row)
            return
        external_ids: list[str] = []
        try:
            channel = self.channels.get(row.channel)
            parts = split_text(message.text, channel.capabilities.max_text)
            bucket, pacer = self._bucket(row.channel), self._pacer(row.channel)
            context = SendContext(
                now=self.clock.now(), last_inbound_at=row.last_inbound_at, outbox_id=outbox_id
            )
            for i in range(done, len(parts)):
                piece = OutboundMessage(
                    text=parts[i],
                    buttons=message.buttons if i == len(parts) - 1 else (),
                    media=message.media if i == 0 else None,
                    kind=message.kind,
                    vars=message.vars,
                )
                await pacer.wait(contact_id)
                await bucket.acquire(row.priority)
                await pacer.wait(contact_id)  # another message to the chat went meanwhile
                pacer.sent(contact_id)
                # A retry_after is kept by the row (next_attempt_at) and the chat's later
                # messages wait behind it: no pause here, on the simulated clock or real.
                result = await channel.send(row.address, piece, context)
                external_ids.append(result.external_id or "")
                done += 1
        except UnknownChannel as error:
            async with self.db.begin() as conn:
                await repo.mark_failed(conn, outbox_id=outbox_id, error=f"no channel {error}")
            stats.failed += 1
            self._count_failed(row)
            return
        except Exception as error:
            failure = (
                error
                if isinstance(error, SendError)
                else SendError(RETRY, f"{type(error).__name__}: {error}")
            )
            if not isinstance(error, SendError):  # an adapter bug or an unclassified error
                log.exception("sending outbox %s failed", outbox_id, extra={"outbox_id": outbox_id})
            if failure.failure in (UNREACHABLE, OPTED_OUT):
                stopped.add(contact_id)
            # A retry goes on after the parts already delivered, never repeating them.
            rest = {**row.payload, "parts_sent": done} if done else None
            await self._failed(row, failure, stats, rest)
            return
        async with self.db.begin() as conn:
            await repo.mark_sent(
                conn,
                outbox_id=outbox_id,
                external_id=",".join(external_ids)[:128] or None,
                now=self.clock.now(),
            )
        stats.sent += 1
        if self.metrics is not None:  # a reply's age: from the message it answers
            age = self.clock.now() - row.created_at if row.kind == REPLY else None
            self.metrics.count_sent(row.channel, age)

    def _count_failed(self, row: Row[Any]) -> None:
        if self.metrics is not None:
            self.metrics.count_failed(row.channel)

    async def _failed(
        self,
        row: Row[Any],
        error: SendError,
        stats: DrainStats,
        rest: dict[str, Any] | None,
    ) -> None:
        now, attempts = self.clock.now(), row.attempts
        async with self.db.begin() as conn:
            if error.rate_limited:  # wait as told; a refusal for rate is no attempt
                assert error.retry_after is not None
                await repo.mark_retry(
                    conn,
                    outbox_id=row.id,
                    error=str(error),
                    next_attempt_at=now + dt.timedelta(seconds=error.retry_after),
                    payload=rest,
                    refund_attempt=True,
                )
                stats.retried += 1
                if self.metrics is not None:
                    self.metrics.count_retry(row.channel, refused=True)
                return
            if error.failure == RETRY and attempts < MAX_ATTEMPTS:
                await repo.mark_retry(
                    conn,
                    outbox_id=row.id,
                    error=str(error),
                    next_attempt_at=now + backoff(attempts),
                    payload=rest,
                )
                stats.retried += 1
                if self.metrics is not None:
                    self.metrics.count_retry(row.channel, refused=error.code in REFUSED)
                return
            if error.failure == UNREACHABLE:
                await repo.mark_unreachable(conn, contact_id=row.contact_id)
            if error.failure == OPTED_OUT:  # the channel says so (Twilio 21610): believe it
                await repo.set_opted_out(conn, contact_id=row.contact_id, opted_out=True)
            status = {OPTED_OUT: "skipped", HELD: "held"}.get(error.failure, "failed")
            reason = str(error) if error.failure != RETRY else f"gave up after {attempts}: {error}"
            await repo.mark_failed(conn, outbox_id=row.id, error=reason, status=status)
            stats.failed += 1
            if status == "failed":
                self._count_failed(row)


__all__ = ["DrainStats", "Sender", "backoff"]
