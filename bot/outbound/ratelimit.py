"""Rate limits for the sender: a channel's overall rate and each chat's.

Pacing is real time (the event loop's monotonic clock), not the simulated clock: it is
about how fast messages reach a channel's servers, which live in real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` sends in any `window` seconds, as Telegram counts them, spread out
    by a token bucket (`limit / window` a second, holding `burst` tokens).

    Waiters are served most urgent first (lowest priority number), then in the order
    they came. The window is the hard guarantee; the bucket keeps sends evenly spaced,
    so that a reply never waits behind a whole window's burst, while letting a grant
    that came late (a busy event loop) catch up a little without losing throughput.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        burst: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a window needs room for one send and a positive length")
        self.limit, self.window, self.clock = limit, window, clock
        self.rate = limit / window
        self.burst = max(1.0, min(burst, float(limit)))
        self._tokens = 1.0
        self._last = clock()
        self._sent: deque[float] = deque()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def _free(self, now: float) -> bool:
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        return len(self._sent) < self.limit and self._tokens >= 1.0

    def _take(self, now: float) -> None:
        self._tokens -= 1.0
        self._sent.append(now)

    async def acquire(self, priority: int = 0) -> None:
        now = self.clock()
        if not self._waiters and self._free(now):
            self._take(now)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        self._wake_later()
        await future  # cancelled: _grant skips it

    def _grant(self) -> None:
        self._timer = None
        now = self.clock()
        while self._waiters and self._free(now):
            _p, _n, future = heapq.heappop(self._waiters)
            if future.done():
                continue  # its waiter was cancelled
            self._take(now)
            future.set_result(None)
        while self._waiters and self._waiters[0][2].done():
            heapq.heappop(self._waiters)
        if self._waiters:
            self._wake_later()

    def _wake_later(self) -> None:
        if self._timer is not None:
            return
        now = self.clock()
        wait = max((1.0 - self._tokens) / self.rate, 0.0)
        if len(self._sent) >= self.limit:
            wait = max(wait, self._sent[0] + self.window - now)
        self._timer = asyncio.get_running_loop().call_later(max(wait, 0.0), self._grant)


class ChatPacer:
    """At least `gap` seconds between two messages to one chat, counted from when each
    was actually handed to the channel (after waiting for the channel's own limit)."""

    def __init__(self, gap: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.gap = gap
        self.clock = clock
        self._last: dict[object, float] = {}

    async def wait(self, chat: object) -> None:
        """Until the chat may have its next message."""
        while True:
            ready = self._last.get(chat, float("-inf")) + self.gap
            now = self.clock()
            if ready <= now:
                return
            await asyncio.sleep(ready - now)

    def sent(self, chat: object) -> None:
        now = self.clock()
        self._last[chat] = now
        if len(self._last) > 50_000:  # forget chats whose moment has long passed
            self._last = {k: v for k, v in self._last.items() if v > now - self.gap}


__all__ = ["ChatPacer", "SlidingWindow"]
