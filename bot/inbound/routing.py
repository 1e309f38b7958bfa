"""The routing order, written once: what a message is given to.

For each message, inside its turn's transaction (bot/inbound/dispatcher.py), in order:

1. the opt-out gate (bot/inbound/optout.py): an opted-out contact gets only MULAI/BERHENTI
   and the commands about their own data (/dataku, /hapus);
2. what a feature asks of everyone first (a new privacy text to agree to);
3. an open dialog (/siaran, /checkin, /tinjau, /hapus, ...) takes what its owner sends;
4. a greeting for someone new (a pre-registered participant is asked consent);
5. files the channel kept are given to their sender;
6. a button of the open question;
7. a photo or file of a participant or staff member is kept;
8. what cannot be read (a sticker, a voice note) gets a short reply;
9. a command, if the person's role may use it (invariant 7), else the help for who they are;
10. a code typed on its own (a staff invite);
11. an answer to the open question (or the start of a week that was opened);
12. a participant with nothing open hears where they stand;
13. anyone else: a bare join code joins, otherwise how to join.

Every message ends with a reply (invariant 8). What the features add at steps 2, 4, 10,
12 and 13 comes through `RouteHooks` (bot/core/feature.py).
"""

from __future__ import annotations

import datetime as dt

from bot.core import dialog
from bot.core.channel import DIGEST_MARK, button_digest
from bot.core.commands import Command, CommandTable, parse_command
from bot.core.feature import RouteHooks
from bot.core.files import claim_stored, keep_media
from bot.core.messages import BUTTON, EDIT, MEDIA, TEXT, UNSUPPORTED
from bot.core.roles import GUEST, PARTICIPANT, STAFF
from bot.core.turn import Turn
from bot.inbound import optout
from flows.engine import Press, Reply, offered
from storage import repo

MAX_TEXT = 10_000  # longer text is cut before it reaches any parser or log
JOIN_COMMAND = "mulai"  # a bare join code is as good as "/mulai CODE"
# Someone silent this long may not recall the open question: a reply that does not fit
# it gets the whole question again (the first reminder goes after two days).
RETURNING_AFTER = dt.timedelta(days=1)
# What the routing and the opt-out gate say themselves.
MESSAGES: tuple[str, ...] = (
    "common.help.participant",
    "common.help.guest",
    "common.not_allowed",
    "common.unknown_command",
    "common.unsupported",
    "common.edited",
    "common.photo_received",
    "common.media_saved",
    "common.internal_error",  # the dispatcher's apology
    "common.optout.resumed",
    "common.optout.reminder",
)


class Router:
    def __init__(self, commands: CommandTable, routes: RouteHooks) -> None:
        self.commands, self.routes = commands, routes

    async def route(self, turn: Turn) -> None:
        """The routing order: each step either answers the message or lets it go on."""
        await turn.drop_stale_session()
        message = turn.message
        text = message.text[:MAX_TEXT]
        caps = turn.capabilities
        parsed = parse_command(
            text,
            slashless=caps.slashless_commands,
            known=self.commands.names,
            answering=turn.identity.session_flow is not None,
        )
        # 1. A contact that opted out: only MULAI or BERHENTI get through.
        if turn.identity.opted_out and await optout.gate(
            turn, self.commands.get(parsed[0]) if parsed else None, parsed[1] if parsed else ""
        ):
            return
        # 2. Asked of everyone first: a new privacy text to agree to, say.
        for first in self.routes.first:
            if await first(turn):
                return
        # 3. An open dialog (/siaran, /checkin, /hapus...) takes what its owner sends next.
        state = (
            await dialog.current(turn)
            if turn.identity.dialog is not None or not turn.joined
            else None
        )
        if state is not None and await self._dialog(turn, state, parsed):
            return
        if message.kind == BUTTON and (message.button or "").startswith(dialog.PREFIX):
            await dialog.on_button(turn, None, message.button or "")
            return
        # 4. Someone who has joined nothing and has nothing open: a feature may greet them
        #    (pre-registered by `jamaah cohort import`: their first message asks consent).
        if not turn.joined and turn.identity.session_flow is None:
            for greet in self.routes.greetings:
                if await greet(turn):
                    return
        # 5. Files: those the channel kept belong to whoever sent them.
        photos = await claim_stored(turn)
        if photos and message.kind == MEDIA and not text.strip():
            await turn.say("common.photo_received")
            await turn.repeat_question()
            return
        # 6. A programme button.
        if message.kind == BUTTON and message.button:
            await self._button(turn, message.button)
            return
        # 7. A photo or file the channel did not keep itself: keep its reference; a caption,
        # if any, is read on as typed text.
        kept = (
            message.kind == MEDIA and bool(message.media) and not photos and await keep_media(turn)
        )
        if kept and not text.strip():
            await turn.say("common.media_saved", {"kind": message.media[0].kind})
            await turn.repeat_question()
            return
        # 8. What cannot be read: a sticker, a voice note, an edit.
        if message.kind == UNSUPPORTED or (message.kind != TEXT and not text.strip()):
            edited = bool(message.media) and message.media[0].kind == EDIT
            await turn.say("common.edited" if edited else "common.unsupported")
            await turn.repeat_question()
            return
        # 9. A command, if this person may use it.
        if parsed is not None:
            name, args = parsed
            candidates = self.commands.candidates(name)
            if not candidates:
                await turn.say("common.unknown_command", {"command": "/" + name[:30]})
                await turn.repeat_question()
                return
            held: set[str] | None = None  # their staff roles, read once for all candidates
            for command in candidates:
                if set(command.roles) >= {GUEST, PARTICIPANT, STAFF}:
                    allowed = True  # open to everyone: no need to look the roles up
                elif turn.joined:
                    allowed = PARTICIPANT in command.roles
                else:
                    if held is None:
                        rows = await repo.roles_of(turn.conn, person_id=turn.person_id)
                        held = {row.role for row in rows}
                    allowed = _allowed(command, held)
                if allowed:
                    await command.handler(turn, args)
                    return
            await self._refuse(turn, candidates[0])
            return
        # 10. A code typed on its own (a staff invite).
        if message.kind == TEXT:
            for typed_code in self.routes.typed_codes:
                if await typed_code(turn, text):
                    return
        # 11. An answer: any message starts the week that was opened, or goes to the
        #     open question.
        if await turn.start_pending():
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
        # 12. Nothing open: a participant hears where they stand.
        if turn.joined:
            await turn.idle()
            return
        # 13. Not joined: a bare join code is as good as "/mulai CODE"; else how to join.
        words = text.split()
        join = self.commands.get(JOIN_COMMAND)
        if (
            join is not None
            and len(words) == 1
            and await repo.get_cohort(turn.conn, join_code=words[0][:32])
        ):
            await join.handler(turn, words[0])
            return
        await self._outsider(turn)

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
        handler = turn.hooks.dialogs[state.name]
        text = message.text[:MAX_TEXT]
        if (
            parsed is not None
            and self.commands.candidates(parsed[0])
            and not (message.kind == TEXT and handler.claims(state.step, text))
        ):
            return False  # a command: it runs, and the dialog stays open
        if message.media and message.kind == MEDIA:
            await handler.media(turn, state, message.media)
            return True
        if message.kind == TEXT and text.strip():
            await dialog.on_text(turn, state, text)
            return True
        return False

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
                await turn.idle()
            else:
                await self._outsider(turn)
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

    async def _outsider(self, turn: Turn) -> None:
        if self.routes.outsider is not None:
            await self.routes.outsider(turn)
        else:
            await turn.say("common.help.guest")


def _allowed(command: Command, held: set[str]) -> bool:
    """Whether someone who joined no cohort, holding `held` staff roles (none: a guest),
    may use `command` (invariant 7)."""
    if held:
        return STAFF in command.roles or bool(held & set(command.roles))
    return GUEST in command.roles
