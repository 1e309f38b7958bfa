"""Inbound → dedupe → identity → routing → engine or command → effects, in ONE transaction.

The transaction holds the inbound log entry, the conversation state, answers, progress
and the outbox rows of the replies: all commit together or none does (a crash before
the commit leaves the message to be redelivered and handled afresh). What a message is
routed to, and in which order, is bot/inbound/routing.py's.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.channel import Outcome, Registry
from bot.core.clock import Clock
from bot.core.commands import CommandTable
from bot.core.feature import RouteHooks
from bot.core.files import copy_photos
from bot.core.messages import MEDIA, InboundMessage, OutboundMessage
from bot.core.metrics import Metrics
from bot.core.turn import NO_HOOKS, Turn, TurnHooks, locale_of
from bot.inbound.routing import Router
from content.loader import Content
from storage import repo

log = logging.getLogger(__name__)

TOUCH_EVERY = dt.timedelta(minutes=1)


def _needs_touch(identity: repo.Identity, message: InboundMessage, now: dt.datetime) -> bool:
    """Whether the contact row must note this message.

    Its last inbound time (WhatsApp's 24-hour window) is written at most once a minute:
    a minute stale only ends the window a minute early. A contact marked unreachable
    is reachable again, and a changed display name is kept, at once.
    """
    last = identity.last_inbound_at
    return (
        last is None
        or now - last >= TOUCH_EVERY
        or identity.unreachable
        or bool(message.display_name and message.display_name != identity.display_name)
    )


class Dispatcher:
    def __init__(
        self,
        db: AsyncEngine,
        content: Content,
        channels: Registry,
        clock: Clock,
        *,
        default_language: str = "id",
        commands: CommandTable | None = None,
        hooks: TurnHooks = NO_HOOKS,
        routes: RouteHooks | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db, self.content, self.channels, self.clock = db, content, channels, clock
        self.default_language = default_language
        self.commands = commands or CommandTable(())
        self.hooks = hooks
        self.router = Router(self.commands, routes or RouteHooks())
        self.metrics = metrics

    async def handle(self, message: InboundMessage) -> Outcome:
        """Handle one inbound message; every message gets an answer, once."""
        if message.kind == MEDIA:  # before the transaction: it may fetch a file
            message = await copy_photos(
                self.db, self.channels, self.hooks.dialogs, message, self.clock.now()
            )
        try:
            async with self.db.begin() as conn:
                now = self.clock.now()
                await repo.lock_sender(conn, channel=message.channel, address=message.address)
                fresh = await repo.record_inbound(
                    conn, channel=message.channel, external_id=message.external_id, now=now
                )
                if not fresh:
                    return Outcome(duplicate=True)
                if self.metrics is not None:
                    self.metrics.count_inbound(message.channel)
                identity = await self._identity(conn, message, now)
                if _needs_touch(identity, message, now):
                    await repo.touch_contact(
                        conn,
                        contact_id=identity.contact_id,
                        now=now,
                        display_name=message.display_name,
                    )
                turn = Turn(
                    conn=conn,
                    content=self.content,
                    message=message,
                    capabilities=self.channels.capabilities(message.channel),
                    now=now,
                    identity=identity,
                    channels=self.channels,
                    hooks=self.hooks,
                )
                await self.router.route(turn)
                await repo.enqueue(
                    conn,
                    rows=[
                        {
                            "contact_id": identity.contact_id,
                            "payload": _payload(out, turn),
                            "priority": repo.PRIORITY_REPLY,
                        }
                        for out in turn.outgoing
                    ],
                    now=now,
                )
                return Outcome(replies=len(turn.outgoing), roles_changed=turn.roles_changed)
        except Exception:
            log.exception(
                "handling %s message %s failed",
                message.channel,
                message.external_id,
                extra={"channel": message.channel, "message_id": message.external_id},
            )
            await self._apologise(message)
            return Outcome(failed=True)

    async def _identity(
        self, conn: AsyncConnection, message: InboundMessage, now: dt.datetime
    ) -> repo.Identity:
        """Who wrote; someone new becomes a person with this one contact."""
        identity = await repo.find_identity(conn, channel=message.channel, address=message.address)
        if identity is None:
            await repo.create_person(
                conn,
                channel=message.channel,
                address=message.address,
                display_name=message.display_name,
                language=self.default_language,
                now=now,
            )
            identity = await repo.find_identity(
                conn, channel=message.channel, address=message.address
            )
            assert identity is not None
        return identity

    async def _apologise(self, message: InboundMessage) -> None:
        """Something broke: roll back, but still tell the person (never silence)."""
        try:
            async with self.db.begin() as conn:
                # On a first message the contact was rolled back with the turn: made anew.
                identity = await self._identity(conn, message, self.clock.now())
                locale = locale_of(identity.language)
                text = self.content.renderer.render("common.internal_error", locale, {})
                await repo.enqueue(
                    conn,
                    rows=[
                        {
                            "contact_id": identity.contact_id,
                            "payload": {"text": text},
                            "priority": repo.PRIORITY_REPLY,
                        }
                    ],
                    now=self.clock.now(),
                )
        except Exception:
            log.exception("could not queue the apology for %s", message.external_id)


def _payload(out: OutboundMessage, turn: Turn) -> dict[str, Any]:
    payload = out.to_payload()
    if turn.to_opted_out:  # the opt-out confirmation, or how to resume: it may go
        payload["to_opted_out"] = True
    return payload
