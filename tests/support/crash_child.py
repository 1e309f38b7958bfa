"""A sender process for the crash test: drains the outbox into a file, slowly.

    python -m tests.support.crash_child DATABASE_URL OUT_FILE

Each delivered message is appended to OUT_FILE as "address<TAB>text" and flushed to
disk before the send returns, as a real channel's server would have it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import sys

from bot.app import open_app
from bot.core.channel import Capabilities
from bot.core.clock import SystemClock
from bot.core.messages import InboundMessage, OutboundMessage, SendResult


class FileChannel:
    name = "slow"
    capabilities = Capabilities(
        max_text=4096,
        buttons=False,
        media=False,
        templates=False,
        markup="plain",
        rate_per_s=1000.0,
        per_chat_per_s=1000.0,
    )

    def __init__(self, path: str) -> None:
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def parse(self, raw: object) -> InboundMessage:
        raise NotImplementedError

    async def send(
        self, address: str, message: OutboundMessage, context: object = None
    ) -> SendResult:
        await asyncio.sleep(0.1)
        self.handle.write(f"{address}\t{message.text}\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return SendResult(external_id=address)


async def main(url: str, out: str) -> None:
    app = await open_app(url, clock=SystemClock(), out=io.StringIO())
    app.channels.register(FileChannel(out))
    app.sender.stale_after = dt.timedelta(seconds=1)  # another worker's claims: not ours
    app.sender._room = lambda name: 4  # type: ignore[method-assign]  # few in flight
    if app.db.dialect.name == "sqlite":
        await app.sender.recover()  # the only sender: what it had claimed goes again
    else:
        await asyncio.sleep(1.2)  # let the dead worker's claims go stale
    await app.sender.drain()
    await app.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
