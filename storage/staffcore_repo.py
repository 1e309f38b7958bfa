"""Kept while bot/ moves; import from storage.invites, storage.people,
storage.system_state and storage.audit_log instead.

- storage.invites       create_invite, invite_code_taken, invite_by_code, claim_invite,
                        add_invited, invited_cohort, accept_invited, drop_invited
- storage.people        whatsapp_holders, set_person_details
- storage.system_state  values_with_prefix
- storage.audit_log     audit_entries
- storage.tables        invites_t
"""

from __future__ import annotations

from storage.audit_log import audit_entries
from storage.invites import (
    accept_invited,
    add_invited,
    claim_invite,
    create_invite,
    drop_invited,
    invite_by_code,
    invite_code_taken,
    invited_cohort,
)
from storage.people import set_person_details, whatsapp_holders
from storage.system_state import values_with_prefix
from storage.tables import invites_t

__all__ = [
    "accept_invited",
    "add_invited",
    "audit_entries",
    "claim_invite",
    "create_invite",
    "drop_invited",
    "invite_by_code",
    "invite_code_taken",
    "invited_cohort",
    "invites_t",
    "set_person_details",
    "values_with_prefix",
    "whatsapp_holders",
]
