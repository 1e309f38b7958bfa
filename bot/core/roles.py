"""Who may use what: the roles a command names, and the staff groups they share.

A command lists the roles that may use it (`bot/core/commands.py`). Besides the stored
membership roles (participant, facilitator, coordinator, admin: `storage.repo`) two
stand for people by what they are in a turn: a GUEST has joined nothing and holds no
staff role; STAFF is anyone who holds a staff role, whichever.
"""

from __future__ import annotations

from storage.repo import ADMIN, COORDINATOR, FACILITATOR, PARTICIPANT

GUEST, STAFF = "guest", "staff"
EVERYONE = (GUEST, PARTICIPANT, STAFF)
FACILITATORS = (FACILITATOR, ADMIN)  # who may act on a cohort as its facilitator
OVERSEERS = (COORDINATOR, ADMIN)  # who may look across cohorts
ALL_STAFF = (FACILITATOR, COORDINATOR, ADMIN)

__all__ = [
    "ADMIN",
    "ALL_STAFF",
    "COORDINATOR",
    "EVERYONE",
    "FACILITATOR",
    "FACILITATORS",
    "GUEST",
    "OVERSEERS",
    "PARTICIPANT",
    "STAFF",
]
