"""The opt-out gate, asked before anything else for a contact that opted out.

BERHENTI / STOP (bot/features/participant/optout.py) stops every message to that
contact: its confirmation is the last one (the outbox row carries "to_opted_out", which
the sender lets through). While opted out, a message from the contact gets one short
reminder of how to resume, and a bare MULAI / START resumes; "MULAI KODE" resumes and goes
on to join, as before. A command marked `while_stopped` (/dataku, /hapus) and the dialog it
opens still work.
"""

from __future__ import annotations

from bot.core.commands import Command
from bot.core.turn import Turn
from storage import repo

STOP_COMMAND = "berhenti"  # its alias too: stop
RESUME_COMMAND = "mulai"  # its aliases too: start, gabung, join


async def resume(turn: Turn) -> None:
    await repo.set_opted_out(turn.conn, contact_id=turn.identity.contact_id, opted_out=False)
    turn.update_identity(opted_out=False)
    await turn.say("common.optout.resumed")


async def gate(turn: Turn, command: Command | None, args: str) -> bool:
    """For a contact that opted out: True when this message was answered here."""
    if not turn.identity.opted_out:
        return False
    if command is not None and command.name == RESUME_COMMAND:
        await resume(turn)
        if args.strip():
            return False  # "MULAI KODE": go on and join
        await turn.repeat_question()
        return True
    if command is not None and (command.name == STOP_COMMAND or command.while_stopped):
        return False
    open_dialog = turn.hooks.dialogs.get(turn.identity.dialog or "")
    if command is None and getattr(open_dialog, "while_stopped", False):
        return False  # the second question of /hapus, say
    turn.to_opted_out = True
    await turn.say("common.optout.reminder")
    return True
