"""Shared by bench/broadcast.py and bench/reply_latency.py: a broadcast to many Telegram
chats through the real adapter (python-telegram-bot) and the real sender, against the
fake Bot API server of the tests, which enforces Telegram's limits with 429 replies
(30 messages/s overall, 1 message/s per chat, counted over the last second as the fake
receives them). Optionally, participants write while it drains and we time their replies.

The same load can be run without our sender: every message handed at once to
python-telegram-bot with its `AIORateLimiter` (broadcast and replies sharing it), the
usual way to keep a PTB bot under the limits. Both use the same fake server.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, update

from bot.app import App, load_checked_content, open_app
from bot.channels.telegram import TelegramChannel, make_bot
from bot.core.clock import SystemClock
from bot.core.config import Settings
from storage import repo
from storage.models import Outbox
from tests.support.fakes.telegram_api import FakeTelegram

BROADCAST = "Siaran dari Bu Ani: pertemuan minggu ini pindah ke balai desa, pukul 16.00."
FIRST_CHAT = 500_000


class TimedFake(FakeTelegram):
    """The fake, noting when it accepted each message and how many it refused."""

    def __init__(self) -> None:
        super().__init__()
        self.enforce_limits = True
        self.accepted: list[tuple[float, int, str]] = []  # (time, chat, text)
        self.refused_429 = 0
        self.refused_chat = 0  # of which for the per-chat limit

    def _limited(self, chat_id: int) -> int | None:
        wait = super()._limited(chat_id)
        if wait is not None and len(self._sends) < self.overall_per_s:
            self.refused_chat += 1
        return wait

    def _send(self, method: str, params: dict[str, Any], text: str, file: Any) -> Any:
        response = super()._send(method, params, text, file)
        if response.status_code == 200:
            self.accepted.append((time.monotonic(), int(params["chat_id"]), text))
        elif response.status_code == 429:
            self.refused_429 += 1
        return response


@dataclass
class Load:
    recipients: int = 3000
    talkers: int = 0  # participants writing while the broadcast drains
    messages_each: int = 5
    seed: int = 7
    inbound: list[tuple[float, int]] = field(default_factory=list)  # (time, chat)


async def _app(url: str | None, fake: TimedFake) -> tuple[App, Any]:
    db_url = url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    app = await open_app(
        db_url, clock=SystemClock(), out=io.StringIO(), content=load_checked_content()
    )
    settings = Settings(telegram_token=fake.token, telegram_base_url=fake.base_url)
    bot = make_bot(settings)
    await bot.initialize()
    app.channels.register(TelegramChannel(bot))
    return app, bot


async def _people(app: App, load: Load) -> list[int]:
    """The broadcast's recipients: Telegram contacts; returns their contact ids."""
    ids = []
    async with app.db.begin() as conn:
        now = app.clock.now()
        for n in range(load.recipients):
            _, contact_id = await repo.create_person(
                conn,
                channel="telegram",
                address=str(FIRST_CHAT + n),
                display_name=f"Peserta {n}",
                language="id",
                now=now,
            )
            ids.append(contact_id)
    return ids


def _update(chat: int, update_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": f"P{chat}", "language_code": "id"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": f"P{chat}"},
            "from": user,
            "text": text,
        },
    }


async def _talk(app: App, load: Load, send_reply: Any = None) -> None:
    """Each talker writes `messages_each` times, 10–20 s apart (a person reading a
    question and typing the answer on a phone), while the broadcast drains."""
    rng = random.Random(load.seed)
    channel = app.channels.get("telegram")
    talkers = rng.sample(range(load.recipients), load.talkers)
    update_ids = iter(range(1, 10**9))

    async def one(n: int) -> None:
        chat = FIRST_CHAT + n
        await asyncio.sleep(rng.uniform(3.0, 20.0))
        for _ in range(load.messages_each):
            message = channel.parse(_update(chat, next(update_ids), "/bantuan"))
            load.inbound.append((time.monotonic(), chat))
            await app.dispatcher.handle(message)
            if send_reply is None:
                app.sender.wake.set()
            else:
                await send_reply(chat)
            await asyncio.sleep(rng.uniform(10.0, 20.0))

    await asyncio.gather(*(one(n) for n in talkers))


async def run_ours(load: Load, url: str | None = None) -> dict[str, Any]:
    """The broadcast (and talkers) through our outbox and sender."""
    fake = await TimedFake().start()
    app, bot = await _app(url, fake)
    try:
        contacts = await _people(app, load)
        async with app.db.begin() as conn:
            await repo.enqueue(
                conn,
                rows=[
                    {
                        "contact_id": cid,
                        "payload": {"text": BROADCAST, "kind": "broadcast"},
                        "priority": repo.PRIORITY_BROADCAST,
                        "dedupe_key": f"bench:{cid}",
                    }
                    for cid in contacts
                ],
                now=app.clock.now(),
            )
        started = time.monotonic()
        sender = asyncio.create_task(app.sender.run(idle_s=0.2))
        talk = asyncio.create_task(_talk(app, load))
        while True:
            await asyncio.sleep(0.5)
            async with app.db.begin() as conn:
                left = (
                    await conn.execute(
                        select(Outbox.id).where(Outbox.status.in_(("pending", "sending"))).limit(1)
                    )
                ).first()
            if left is None and talk.done():
                break
        sender.cancel()
        await asyncio.gather(sender, talk, return_exceptions=True)
        return _figures(fake, load, started)
    finally:
        await bot.shutdown()
        await app.close()
        await fake.stop()


async def run_ptb(load: Load, url: str | None = None) -> dict[str, Any]:
    """The same load through python-telegram-bot's AIORateLimiter instead of our sender:
    every message is handed to PTB at once; its limiter spaces them."""
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    from bot.channels.telegram import api_urls

    fake = await TimedFake().start()
    app, _unused = await _app(url, fake)
    base_url, base_file_url = api_urls(fake.base_url)
    bot: ExtBot[Any] = ExtBot(
        fake.token,
        base_url=base_url,
        base_file_url=base_file_url,
        request=HTTPXRequest(connection_pool_size=64, pool_timeout=120.0),
        rate_limiter=AIORateLimiter(max_retries=5),
    )
    await bot.initialize()
    failed = 0
    replies: list[asyncio.Task[None]] = []

    async def send(chat: int, text: str) -> None:
        nonlocal failed
        try:
            await bot.send_message(chat, text)
        except Exception:
            failed += 1

    async def send_reply(chat: int) -> None:
        # The replies the dispatcher queued for this chat, sent through PTB instead.
        async with app.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(Outbox.id, Outbox.payload)
                    .join(repo.contacts, repo.contacts.c.id == Outbox.contact_id)
                    .where(repo.contacts.c.address == str(chat), Outbox.status == "pending")
                    .order_by(Outbox.id)
                )
            ).all()
            await conn.execute(
                update(Outbox).where(Outbox.id.in_([r.id for r in rows])).values(status="sent")
            )
        for row in rows:
            replies.append(asyncio.create_task(send(chat, row.payload["text"])))

    try:
        await _people(app, load)
        started = time.monotonic()
        broadcast = [
            asyncio.create_task(send(FIRST_CHAT + n, BROADCAST)) for n in range(load.recipients)
        ]
        await _talk(app, load, send_reply)
        await asyncio.gather(*broadcast, *replies)
        figures = _figures(fake, load, started)
        figures["send_errors"] = failed
        return figures
    finally:
        await bot.shutdown()
        await _unused.shutdown()
        await app.close()
        await fake.stop()


def _figures(fake: TimedFake, load: Load, started: float) -> dict[str, Any]:
    broadcast = [(t, chat) for t, chat, text in fake.accepted if text == BROADCAST]
    chats = [chat for _t, chat in broadcast]
    times = sorted(t for t, _chat, _text in fake.accepted)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    latencies = []
    replies = sorted((t, chat) for t, chat, text in fake.accepted if text != BROADCAST)
    for t_in, chat in load.inbound:
        answer = next((t for t, c in replies if c == chat and t >= t_in), None)
        if answer is not None:
            latencies.append(answer - t_in)
    figures: dict[str, Any] = {
        "recipients": load.recipients,
        "sent": len(fake.accepted),
        "seconds": round(time.monotonic() - started, 1),
        "rate_per_s": round(rate, 2),
        "rate_ratio": round(rate / fake.overall_per_s, 4),
        "http_429": fake.refused_429,
        "http_429_per_chat": fake.refused_chat,
        "lost": load.recipients - len(set(chats)),
        "duplicates": len(chats) - len(set(chats)),
    }
    if load.inbound:
        latencies.sort()
        figures.update(
            inbound=len(load.inbound),
            answered=len(latencies),
            p50_s=round(statistics.median(latencies), 3) if latencies else None,
            p95_s=round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
            max_s=round(latencies[-1], 3) if latencies else None,
        )
    return figures


def emit(figures: dict[str, Any]) -> None:
    print(json.dumps(figures))
