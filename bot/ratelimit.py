"""Token buckets for the sender: a channel's overall rate and each chat's.

Pacing is real time (the event loop's monotonic clock), not the simulated clock:
it is about how fast messages reach a channel's servers, which live in real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; waiters are served most urgent
    first (lowest priority number), then in the order they came.

    A burst of 1.5 lets a grant that fires a little late (a busy event loop) catch up
    half a token, while any one second still holds at most `rate` + 0.5 sends: with the
    sender's headroom that stays under the channel's limit."""

    def __init__(
        self, rate: float, burst: float = 1.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and room for one token")
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens = burst
        self._last = clock()
        self._paused_until = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def _refill(self) -> None:
        now = self.clock()
        if now < self._paused_until:
            self._last = now
            return
        start = max(self._last, self._paused_until)
        self._tokens = min(self.burst, self._tokens + (now - start) * self.rate)
        self._last = now

    async def acquire(self, priority: int = 0) -> None:
        self._refill()
        if not self._waiters and self._tokens >= 1 and self.clock() >= self._paused_until:
            self._tokens -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        self._wake_later()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._tokens += 1  # granted as we were cancelled: give it back
            raise

    def pause(self, seconds: float) -> None:
        """No tokens for `seconds` (the channel said: retry after)."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        self._tokens = min(self._tokens, 0.0)

    def _grant(self) -> None:
        self._timer = None
        self._refill()
        while self._waiters and self._tokens >= 1 and self.clock() >= self._paused_until:
            _p, _n, future = heapq.heappop(self._waiters)
            if future.done():
                continue  # its waiter was cancelled
            self._tokens -= 1
            future.set_result(None)
        while self._waiters and self._waiters[0][2].done():
            heapq.heappop(self._waiters)
        if self._waiters:
            self._wake_later()

    def _wake_later(self) -> None:
        if self._timer is not None:
            return
        now = self.clock()
        wait = max(self._paused_until - now, (1 - self._tokens) / self.rate, 0.0)
        self._timer = asyncio.get_running_loop().call_later(wait, self._grant)


class ChatPacer:
    """At most `rate` messages a second to any one chat: each chat's next free moment."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.gap = 1.0 / rate
        self.clock = clock
        self._next: dict[object, float] = {}

    async def wait(self, chat: object) -> None:
        now = self.clock()
        ready = self._next.get(chat, 0.0)
        if ready > now:
            await asyncio.sleep(ready - now)
            now = self.clock()
        self._next[chat] = max(now, ready) + self.gap
        if len(self._next) > 50_000:  # forget chats whose moment has long passed
            cutoff = now - 10 * self.gap
            self._next = {k: v for k, v in self._next.items() if v > cutoff}


__all__ = ["ChatPacer", "TokenBucket"]
