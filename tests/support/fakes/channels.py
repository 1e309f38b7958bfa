"""In-process fake channels for the sender: one that enforces rate limits with 429s,
one that fails at random. Both record what they delivered, per chat, in order."""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict, deque

from bot.core.channel import Capabilities
from bot.core.messages import RETRY, InboundMessage, OutboundMessage, SendError, SendResult


class RateLimitedChannel:
    """Answers 429 (retry after) when more than `rate` messages arrive in any second,
    or more than `per_chat` in any second to one chat, as Telegram does."""

    def __init__(
        self,
        name: str = "limited",
        rate: float = 30.0,
        per_chat: float = 1.0,
        latency_s: float = 0.0,
        tolerance_s: float = 0.02,
    ) -> None:
        self.name = name
        self.capabilities = Capabilities(
            max_text=4096,
            buttons=True,
            media=True,
            templates=False,
            markup="plain",
            rate_per_s=rate,
            per_chat_per_s=per_chat,
        )
        self.rate, self.per_chat, self.latency_s = rate, per_chat, latency_s
        self.tolerance_s = tolerance_s
        self.window: deque[float] = deque()
        self.last_in_chat: dict[str, float] = {}
        self.delivered: dict[str, list[str]] = defaultdict(list)
        self.times: list[float] = []
        self.rejected = 0

    def parse(self, raw: object) -> InboundMessage:
        raise NotImplementedError

    async def send(
        self, address: str, message: OutboundMessage, context: object = None
    ) -> SendResult:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        now = time.monotonic()
        while self.window and self.window[0] <= now - 1.0 + self.tolerance_s:
            self.window.popleft()
        last = self.last_in_chat.get(address)
        chat_busy = last is not None and now - last < 1.0 / self.per_chat - self.tolerance_s
        if len(self.window) >= self.rate or chat_busy:
            self.rejected += 1
            raise SendError(RETRY, "429 Too Many Requests", retry_after=1.0, code="429")
        self.window.append(now)
        self.last_in_chat[address] = now
        self.times.append(now)
        self.delivered[address].append(message.text)
        return SendResult(external_id=f"{address}-{len(self.delivered[address])}")


class ChaosChannel:
    """Fails at random before delivering: 5xx, 429 with retry_after, timeouts."""

    name = "chaos"
    capabilities = Capabilities(
        max_text=4096,
        buttons=False,
        media=False,
        templates=False,
        markup="plain",
        rate_per_s=1000.0,
        per_chat_per_s=1000.0,
    )

    def __init__(self, seed: int, failure_rate: float = 0.3) -> None:
        self.random = random.Random(seed)
        self.failure_rate = failure_rate
        self.delivered: dict[str, list[str]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)

    def parse(self, raw: object) -> InboundMessage:
        raise NotImplementedError

    async def send(
        self, address: str, message: OutboundMessage, context: object = None
    ) -> SendResult:
        await asyncio.sleep(0)
        if self.random.random() < self.failure_rate:
            kind = self.random.choice(["5xx", "429", "timeout"])
            self.failures[kind] += 1
            if kind == "5xx":
                raise SendError(RETRY, "502 Bad Gateway", code="502")
            if kind == "429":
                raise SendError(RETRY, "429 Too Many Requests", retry_after=3.0, code="429")
            raise TimeoutError("the connection timed out")
        self.delivered[address].append(message.text)
        return SendResult(external_id=f"{address}-{len(self.delivered[address])}")
