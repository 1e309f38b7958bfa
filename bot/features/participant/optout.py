"""/berhenti (/stop; BERHENTI on WhatsApp): no more messages from the bot until MULAI.

What an opted-out contact's next messages get is the opt-out gate's (bot/inbound/optout.py),
which the routing asks before anything else.
"""

from __future__ import annotations

from bot.core.commands import Command
from bot.core.roles import EVERYONE
from bot.core.turn import Turn
from storage import repo


async def stop(turn: Turn, args: str) -> None:
    """/berhenti: no more messages from the bot until MULAI."""
    if not turn.identity.opted_out:
        await repo.set_opted_out(turn.conn, contact_id=turn.identity.contact_id, opted_out=True)
        turn.update_identity(opted_out=True)
    turn.to_opted_out = True
    await turn.say("common.optout.done")


COMMANDS = (Command("berhenti", ("stop",), stop, EVERYONE),)
