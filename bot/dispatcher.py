"""Inbound → dedupe → identity → router → engine or command → effects, in ONE transaction.

The transaction holds the inbound log entry, the conversation state, answers, progress
and the outbox rows of the replies: all commit together or none does (a crash before
the commit leaves the message to be redelivered and handled afresh).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.channels.base import DIGEST_MARK, Registry, button_digest
from bot.clock import Clock
from bot.commands import Command, optout, parse_command
from bot.commands import participant as participant_commands
from bot.commands import staff as staff_commands
from bot.commands.participant import GUEST, PARTICIPANT, STAFF
from bot.messages import (
    BUTTON,
    EDIT,
    MEDIA,
    TEXT,
    UNSUPPORTED,
    InboundMessage,
    OutboundMessage,
)
from bot.staff import dialog, invites
from bot.turn import Turn, locale_of
from content.loader import Content
from flows.engine import Press, Reply, offered
from storage import repo

log = logging.getLogger(__name__)

MAX_TEXT = 10_000  # longer text is cut before it reaches any parser or log
STORED_MEDIA = "doc:"  # a Media.ref "doc:<token>": a file the channel kept in `documents`
TOUCH_EVERY = dt.timedelta(minutes=1)
# Someone silent this long may not recall the open question: a reply that does not fit
# it gets the whole question again (the first reminder goes after two days).
RETURNING_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    duplicate: bool = False
    replies: int = 0
    failed: bool = False
    roles_changed: bool = False  # their command menu needs refreshing (bot/staff/invites.py)


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
        commands: tuple[Command, ...] = (
            participant_commands.COMMANDS + optout.COMMANDS + staff_commands.COMMANDS
        ),
    ) -> None:
        self.db, self.content, self.channels, self.clock = db, content, channels, clock
        self.default_language = default_language
        self.commands: dict[str, Command] = {}
        for command in commands:
            for name in (command.name, *command.aliases):
                self.commands[name] = command
        self._names = set(self.commands)

    async def handle(self, message: InboundMessage) -> Outcome:
        """Handle one inbound message; every message gets an answer, once."""
        if message.kind == MEDIA:  # before the transaction: it may fetch a file
            message = await dialog.copy_photos(self.db, self.channels, message, self.clock.now())
        try:
            async with self.db.begin() as conn:
                now = self.clock.now()
                await repo.lock_sender(conn, channel=message.channel, address=message.address)
                fresh = await repo.record_inbound(
                    conn, channel=message.channel, external_id=message.external_id, now=now
                )
                if not fresh:
                    return Outcome(duplicate=True)
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
                )
                await self._route(turn)
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
            log.exception("handling %s message %s failed", message.channel, message.external_id)
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

    async def _route(self, turn: Turn) -> None:
        await turn.drop_stale_session()
        message = turn.message
        text = message.text[:MAX_TEXT]
        caps = turn.capabilities
        parsed = parse_command(
            text,
            slashless=caps.slashless_commands,
            known=self._names,
            answering=turn.identity.session_flow is not None,
        )
        if turn.identity.opted_out and await optout.gate(
            turn, self.commands.get(parsed[0]) if parsed else None, parsed[1] if parsed else ""
        ):
            return
        # A staff member's open dialog (/siaran, /checkin, ...) takes what they send next.
        state = None if turn.joined else await dialog.current(turn)
        if state is not None and await self._dialog(turn, state, parsed):
            return
        if message.kind == BUTTON and (message.button or "").startswith(dialog.PREFIX):
            await dialog.on_button(turn, None, message.button or "")
            return
        # Pre-registered by `jamaah cohort import`: their first message asks their consent.
        if (
            not turn.joined
            and turn.identity.session_flow is None
            and await invites.welcome_preregistered(turn)
        ):
            return
        photos = [
            m.ref[len(STORED_MEDIA) :]
            for m in message.media
            if m.kind == "photo" and m.ref.startswith(STORED_MEDIA)
        ]
        if photos:  # kept by the channel: they belong to whoever sent them
            await repo.claim_documents(turn.conn, tokens=photos, person_id=turn.person_id)
            if message.kind == MEDIA and not text.strip():
                await turn.say("common.photo_received")
                await turn.repeat_question()
                return
        if message.kind == BUTTON and message.button:
            await self._button(turn, message.button)
            return
        # A photo or file the channel did not keep itself: keep its reference; a caption,
        # if any, is read on as typed text.
        kept = (
            message.kind == MEDIA
            and bool(message.media)
            and not photos
            and await self._keep_media(turn)
        )
        if kept and not text.strip():
            await turn.say("common.media_saved", {"kind": message.media[0].kind})
            await turn.repeat_question()
            return
        if message.kind == UNSUPPORTED or (message.kind != TEXT and not text.strip()):
            edited = bool(message.media) and message.media[0].kind == EDIT
            await turn.say("common.edited" if edited else "common.unsupported")
            await turn.repeat_question()
            return
        if parsed is not None:
            name, args = parsed
            command = self.commands.get(name)
            if command is None:
                await turn.say("common.unknown_command", {"command": "/" + name[:30]})
                await turn.repeat_question()
                return
            if not await self._allowed(turn, command):
                await self._refuse(turn, command)
                return
            await command.handler(turn, args)
            return
        invite = invites.invite_code(text) if message.kind == TEXT else None
        if invite is not None:  # a staff invite code, sent on its own
            await invites.redeem(turn, invite)
            return
        if await turn.start_pending():  # any message starts the week that was opened
            return
        flow = turn.session_flow()
        if flow is not None:
            if not text.strip():
                await turn.say("errors.empty")
                await turn.repeat_question()
                return
            last = turn.identity.last_inbound_at
            returning = last is not None and turn.now - last >= RETURNING_AFTER
            await turn.step_flow(flow, Reply(text, returning=returning))
            return
        if turn.joined:
            await participant_commands.idle(turn)
            return
        # Not joined: a bare join code is as good as "/mulai CODE".
        words = text.split()
        if len(words) == 1 and await repo.get_cohort(turn.conn, join_code=words[0][:32]):
            await self.commands["mulai"].handler(turn, words[0])
            return
        await participant_commands.outsider(turn)

    async def _dialog(
        self, turn: Turn, state: dialog.DialogState, parsed: tuple[str, str] | None
    ) -> bool:
        """Give the open dialog what was sent; False when it is not the dialog's."""
        message = turn.message
        if message.kind == BUTTON and message.button:
            data = message.button
            if data.startswith(DIGEST_MARK):
                data = dialog.undigest(state, data) or data
            if not data.startswith(dialog.PREFIX):
                return False  # a programme button: the usual way
            await dialog.on_button(turn, state, data)
            return True
        if parsed is not None and self.commands.get(parsed[0]) is not None:
            return False  # a command: it runs, and the dialog stays open
        if message.media and message.kind == MEDIA:
            await dialog.DIALOGS[state.name].media(turn, state, message.media)
            return True
        text = message.text[:MAX_TEXT]
        if message.kind == TEXT and text.strip():
            await dialog.on_text(turn, state, text)
            return True
        return False

    async def _allowed(self, turn: Turn, command: Command) -> bool:
        """Whether this person's role may use `command` (invariant 7)."""
        if set(command.roles) >= {GUEST, PARTICIPANT, STAFF}:
            return True  # open to everyone: no need to look the roles up
        if turn.joined:
            return PARTICIPANT in command.roles
        held = {row.role for row in await repo.roles_of(turn.conn, person_id=turn.person_id)}
        if held:
            return STAFF in command.roles or bool(held & set(command.roles))
        return GUEST in command.roles

    async def _refuse(self, turn: Turn, command: Command) -> None:
        """Someone used a command that is not theirs: the help for who they are.

        A participant or a newcomer trying a staff command learns nothing of it, only
        what they themselves can do; a staff member is told the command is not theirs.
        """
        if turn.joined:
            await turn.say("common.help.participant")
        elif await repo.roles_of(turn.conn, person_id=turn.person_id):
            await turn.say("common.not_allowed", {"command": "/" + command.name})
        else:
            await turn.say("common.help.guest")
        await turn.repeat_question()

    async def _keep_media(self, turn: Turn) -> bool:
        """Keep a reference to the photos or files a participant or staff member sent.

        Only the channel's reference (a file id or URL) is kept, with the question that
        was open, for their facilitator to see later. A guest has not consented to
        anything being kept: nothing is, and they are told we cannot read it.
        """
        if not turn.joined and not await repo.roles_of(turn.conn, person_id=turn.person_id):
            return False
        message = turn.message
        where = turn.identity.session_step or "chat"
        for number, media in enumerate(message.media, start=1):
            if not media.ref:
                continue
            await repo.save_document(
                turn.conn,
                person_id=turn.person_id,
                filename=f"{media.kind}-{where}-{message.external_id}-{number}"[:200],
                content_type=media.content_type or "application/octet-stream",
                ref=media.ref[:500],
                now=turn.now,
            )
        return True

    async def _button(self, turn: Turn, data: str) -> None:
        if data.startswith(DIGEST_MARK):  # a channel shortened it: find the button it was
            data = self._undigest(turn, data) or ""
        flow_id, _, rest = data.partition(":")
        step, _, value = rest.partition(":")
        if await turn.start_pending():
            return
        flow = turn.session_flow()
        if flow is None or flow.id != flow_id:
            await turn.say("errors.stale_button")
            if flow is not None:  # a button of another flow: the open question again
                await turn.repeat_question()
            elif turn.joined:
                await participant_commands.idle(turn)
            else:
                await participant_commands.outsider(turn)
            return
        await turn.step_flow(flow, Press(step, value))

    @staticmethod
    def _undigest(turn: Turn, digest: str) -> str | None:
        """The open question's button data whose digest is `digest`, if any."""
        flow, step = turn.session_flow(), turn.identity.session_step
        if flow is None or step is None:
            return None
        for value in offered(flow, step):
            data = f"{flow.id}:{step}:{value}"
            if button_digest(data) == digest:
                return data
        return None

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
