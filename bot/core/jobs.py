"""Periodic jobs: what a feature runs at every scheduler tick, and what a tick counts.

A job is `async (context, now) -> TickStats`: it finds what is due in the database
(indexed, so a tick with nothing due reads almost nothing), queues it through the outbox
in its own transaction(s), and returns what it queued (kind → messages). The scheduler
(bot/scheduling/) runs the programme's own events first, then every feature's jobs;
it is the `JobContext` they are given.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Registry
from content.loader import Content
from flows.pacing import Schedule


@dataclass
class TickStats:
    cohorts: int = 0
    sessions: int = 0
    sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # kind → messages
    skipped_late: int = 0

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def add(self, other: TickStats) -> None:
        self.cohorts += other.cohorts
        self.sessions += other.sessions
        self.skipped_late += other.skipped_late
        for kind, n in other.sent.items():
            self.sent[kind] += n


class JobContext(Protocol):
    """What a job may use: the database, the content, the channels, and the queue."""

    db: AsyncEngine
    content: Content
    channels: Registry
    schedule: Schedule

    def queue(
        self,
        outbox: list[tuple[Any, ...]],
        person: Any,
        key: str,
        kind: str,
        dedupe: str,
        params: Mapping[str, Any],
        stats: TickStats,
        *,
        name: str | None = None,
    ) -> None:
        """Add message `key` for `person` to `outbox` (rendered when it is sent)."""
        ...


Job = Callable[[JobContext, dt.datetime], Awaitable[TickStats]]
