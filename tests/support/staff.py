"""A staff member's taps and the audit log, as the staff tools' tests read them."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.core.messages import BUTTON, InboundMessage
from storage import repo
from tests.support.world import console_output

_ids = itertools.count(1)  # external ids of the taps


async def press(app: App, who: str, data: str) -> str:
    """A button press (as Telegram sends one), answered on the console."""
    out = console_output(app)
    await app.dispatcher.handle(
        InboundMessage(
            channel="console",
            address=who,
            external_id=f"press-{next(_ids)}",
            kind=BUTTON,
            button=data,
        )
    )
    await app.sender.drain()
    return console_output(app)[len(out) :]


async def audits(app: App, action: str) -> list[Any]:
    async with app.db.connect() as conn:
        return list(
            (await conn.execute(select(repo.audit_t).where(repo.audit_t.c.action == action))).all()
        )
