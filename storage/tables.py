"""The models' tables as SQLAlchemy Core `Table` objects, one name each.

The repositories build their queries on these (storage/models.py declares them). Every
name ends in `_t`, so that it never shadows a repository module of the same word
(`storage.people`, the module; `people_t`, the table).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from storage.models import (
    Answer,
    AuditLog,
    Broadcast,
    Checkin,
    Cohort,
    CohortTally,
    Contact,
    Dialog,
    Document,
    FlowSession,
    Holiday,
    InboundLog,
    Invite,
    MeetingDecision,
    Membership,
    Nudge,
    Outbox,
    Person,
    Progress,
    Review,
    SystemState,
)

answers_t = cast(Table, Answer.__table__)
audit_t = cast(Table, AuditLog.__table__)
broadcasts_t = cast(Table, Broadcast.__table__)
checkins_t = cast(Table, Checkin.__table__)
cohorts_t = cast(Table, Cohort.__table__)
contacts_t = cast(Table, Contact.__table__)
dialogs_t = cast(Table, Dialog.__table__)
documents_t = cast(Table, Document.__table__)
holidays_t = cast(Table, Holiday.__table__)
inbound_t = cast(Table, InboundLog.__table__)
invites_t = cast(Table, Invite.__table__)
meetings_t = cast(Table, MeetingDecision.__table__)
memberships_t = cast(Table, Membership.__table__)
nudges_t = cast(Table, Nudge.__table__)
outbox_t = cast(Table, Outbox.__table__)
people_t = cast(Table, Person.__table__)
progress_t = cast(Table, Progress.__table__)
reviews_t = cast(Table, Review.__table__)
sessions_t = cast(Table, FlowSession.__table__)
state_t = cast(Table, SystemState.__table__)
tallies_t = cast(Table, CohortTally.__table__)
