"""Opting out and back in, on every channel: BERHENTI / STOP and MULAI / START.

BERHENTI stops every message to that contact: its confirmation is the last one (the
outbox row carries "to_opted_out", which the sender lets through). While opted out, a
message from the contact gets one short reminder of how to resume, and a bare
MULAI / START resumes; "MULAI KODE" resumes and goes on to join, as before.
"""

from __future__ import annotations

from bot.commands import Command
from bot.turn import Turn
from storage import repo

RESUME_COMMAND = "mulai"  # its aliases too: start, gabung, join


async def stop(turn: Turn, args: str) -> None:
    """/berhenti: no more messages from the bot until MULAI."""
    if not turn.identity.opted_out:
        await repo.set_opted_out(turn.conn, contact_id=turn.identity.contact_id, opted_out=True)
        turn.update_identity(opted_out=True)
    turn.to_opted_out = True
    await turn.say("common.optout.done")


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
    if command is not None and command.handler is stop:
        return False
    turn.to_opted_out = True
    await turn.say("common.optout.reminder")
    return True


COMMANDS = (Command("berhenti", ("stop",), stop, ("guest", "participant", "staff")),)
