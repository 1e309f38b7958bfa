"""The roles a membership holds (`memberships.role`)."""

from __future__ import annotations

PARTICIPANT, FACILITATOR, COORDINATOR = "participant", "facilitator", "coordinator"
ADMIN = "admin"  # manages staff; sees every cohort
STAFF_ROLES = (FACILITATOR, COORDINATOR, ADMIN)
# Pre-registered by `jamaah cohort import`, not yet consented (storage/invites.py):
# not a participant, not staff; counted against the cohort's capacity.
INVITED = "invited"
