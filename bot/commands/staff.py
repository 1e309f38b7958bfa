"""Staff commands (issue 7): every staff module's commands, and what they share.

Each area keeps its commands in its own module; this one gathers them for the
dispatcher and holds the few helpers they all use (the asker's scope, "not in your
cohorts"). "batal" / "/batal" is not a command: an open dialog reads it (bot/staff/dialog.py).
"""

from __future__ import annotations

from bot.commands import Command, admin, broadcast, checkin, cohort_views, coordinator
from bot.staff.scope import Scope, scope_of
from bot.turn import Turn
from storage.repo import ADMIN, COORDINATOR, FACILITATOR

FACILITATORS = (FACILITATOR, ADMIN)  # who may act on a cohort as its facilitator
OVERSEERS = (COORDINATOR, ADMIN)  # who may look across cohorts
ALL_STAFF = (FACILITATOR, COORDINATOR, ADMIN)


async def scope(turn: Turn) -> Scope:
    """The asker's scope (read once per turn)."""
    return await scope_of(turn.conn, turn.person_id)


async def not_in_scope(turn: Turn, given: str) -> None:
    """The one answer for unknown and out-of-scope alike: nothing is learnt from it."""
    await turn.say("staff.not_in_scope", {"given": given.strip()[:60]})


COMMANDS: tuple[Command, ...] = (
    *admin.COMMANDS,
    *broadcast.COMMANDS,
    *checkin.COMMANDS,
    *cohort_views.COMMANDS,
    *coordinator.COMMANDS,
)
