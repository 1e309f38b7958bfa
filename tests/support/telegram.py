"""Talking to the bot on Telegram in tests: `jamaah run` in the background against the
fake Bot API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select

from bot.app import App
from bot.core.config import Settings
from bot.serve import serve
from storage.models import InboundLog, Outbox
from tests.support.fakes.telegram_api import FakeTelegram, FakeUser, Sent

SECRET = "s3cret_webhook-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bot:
    """`jamaah run` in the background, and what a test needs to talk to it."""

    def __init__(self, app: App, fake: FakeTelegram, mode: str) -> None:
        self.app, self.fake, self.mode = app, fake, mode
        port = free_port()
        extra: dict[str, Any] = {}
        if mode == "webhook":
            extra = {
                "public_url": f"http://127.0.0.1:{port}",
                "telegram_webhook_secret": SECRET,
            }
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_token=fake.token,
            telegram_base_url=fake.base_url,
            host="127.0.0.1",
            port=port,
            **extra,
        )
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(serve(self.app, self.settings, self.stop))
        if self.mode == "webhook":
            await until(lambda: self.fake.webhook is not None)
            await until_up(f"{self.settings.public_url}/healthz")
        else:
            await until(lambda: bool(self.fake.calls_of("getUpdates")))

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)

    async def settle(self, update: dict[str, Any] | None = None) -> None:
        """Wait until `update` was handled and every reply that is due has gone."""

        async def done() -> bool:
            async with self.app.db.begin() as conn:
                if update is not None:
                    seen = await conn.execute(
                        select(InboundLog.id).where(
                            InboundLog.external_id == str(update["update_id"])
                        )
                    )
                    if seen.first() is None:
                        return False
                due = await conn.execute(
                    select(Outbox.id).where(
                        Outbox.status.in_(("pending", "sending")),
                        Outbox.next_attempt_at <= self.app.clock.now(),
                    )
                )
                return due.first() is None

        for _ in range(500):
            if await done():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the bot did not settle after {update}")

    async def say(self, user: FakeUser, text: str) -> str:
        before = len(self.fake.sent_to(user.id))
        await self.settle(await user.say(text))
        return texts(self.fake.sent_to(user.id)[before:])

    async def press(self, user: FakeUser, label_or_data: str) -> str:
        before = len(self.fake.sent_to(user.id))
        update = await user.press(label_or_data)
        await self.settle(update)
        await until(lambda: answered(self.fake, update))
        return texts(self.fake.sent_to(user.id)[before:])

    async def deliver(self, user: FakeUser, update: dict[str, Any]) -> str:
        before = len(self.fake.sent_to(user.id))
        await self.fake.deliver(update)
        await self.settle(update)
        return texts(self.fake.sent_to(user.id)[before:])


def texts(sent: list[Sent]) -> str:
    return "\n".join(s.text for s in sent)


def answered(fake: FakeTelegram, update: dict[str, Any]) -> bool:
    query = update["callback_query"]["id"]
    return any(
        c.params.get("callback_query_id") == query for c in fake.calls_of("answerCallbackQuery")
    )


async def until(condition: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


async def until_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(500):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.01)
    raise AssertionError(f"{url} did not come up")


@asynccontextmanager
async def polling(app: App) -> AsyncIterator[Bot]:
    """`jamaah run` with Telegram polling a fake Bot API, for one test."""
    api = await FakeTelegram(clock=lambda: app.clock.now().timestamp()).start()
    running = Bot(app, api, "polling")
    await running.start()
    try:
        yield running
    finally:
        await running.close()
        await api.stop()
