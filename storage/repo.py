"""A facade, kept while call sites move: `from storage import repo; repo.X` still works
for every name this module held when it was the storage hub. Import from the module
that holds the name instead; this one goes once nothing imports it.

Who holds what (the repositories are keyword-only async functions on one connection;
the caller owns the transaction):

- storage.tables        the tables; here under their old names (`cohorts` is
                        `tables.cohorts_t`, `people` `people_t`, `contacts`
                        `contacts_t`, `memberships` `memberships_t`, `sessions`
                        `sessions_t`; the `*_t` names are the same there)
- storage.roles         PARTICIPANT, FACILITATOR, COORDINATOR, ADMIN, STAFF_ROLES, INVITED
- storage.inbound_log   record_inbound, inbound_seen, lock_sender
- storage.cohorts       create_cohort, update_cohort, get_cohort, list_cohorts,
                        lock_cohort, count_members, cohort_staff, add_membership
- storage.people        Identity, find_identity, create_person, add_contact,
                        touch_contact, update_person, contact_by_address,
                        set_opted_out, mark_unreachable, roles_of, menu_people
- storage.conversation  save_session, delete_session, UNKNOWN, load_answers,
                        save_answer, answer_history, delete_answers, open_week,
                        complete_week, list_progress
- storage.outbox        PRIORITY_REPLY, PRIORITY_NUDGE, PRIORITY_BROADCAST, enqueue,
                        claim_due, release_claims, mark_sent, mark_retry, mark_failed,
                        DELIVERY_RANK, DELIVERY_FAILED, outbox_by_external_id,
                        record_delivery, undelivered
- storage.documents     create_document, document_by_token, document_by_ref,
                        claim_documents, get_document, list_documents; `save_document`
                        here is `documents.save_received` (`documents.save_document`
                        is the other one, for documents the bot makes)
- storage.audit_log     audit
- storage.system_state  get_value, set_value
"""

from __future__ import annotations

from storage.audit_log import audit
from storage.cohorts import (
    add_membership,
    cohort_staff,
    count_members,
    create_cohort,
    get_cohort,
    list_cohorts,
    lock_cohort,
    update_cohort,
)
from storage.conversation import (
    UNKNOWN,
    answer_history,
    complete_week,
    delete_answers,
    delete_session,
    list_progress,
    load_answers,
    open_week,
    save_answer,
    save_session,
)
from storage.documents import (
    claim_documents,
    create_document,
    document_by_ref,
    document_by_token,
    get_document,
    list_documents,
)
from storage.documents import save_received as save_document
from storage.inbound_log import inbound_seen, lock_sender, record_inbound
from storage.outbox import (
    DELIVERY_FAILED,
    DELIVERY_RANK,
    PRIORITY_BROADCAST,
    PRIORITY_NUDGE,
    PRIORITY_REPLY,
    claim_due,
    enqueue,
    mark_failed,
    mark_retry,
    mark_sent,
    outbox_by_external_id,
    record_delivery,
    release_claims,
    undelivered,
)
from storage.people import (
    Identity,
    add_contact,
    contact_by_address,
    create_person,
    find_identity,
    mark_unreachable,
    menu_people,
    roles_of,
    set_opted_out,
    touch_contact,
    update_person,
)
from storage.roles import ADMIN, COORDINATOR, FACILITATOR, INVITED, PARTICIPANT, STAFF_ROLES
from storage.system_state import get_value, set_value
from storage.tables import (
    answers_t,
    audit_t,
    documents_t,
    inbound_t,
    outbox_t,
    progress_t,
    state_t,
)
from storage.tables import cohorts_t as cohorts
from storage.tables import contacts_t as contacts
from storage.tables import memberships_t as memberships
from storage.tables import people_t as people
from storage.tables import sessions_t as sessions

__all__ = [
    "ADMIN",
    "COORDINATOR",
    "DELIVERY_FAILED",
    "DELIVERY_RANK",
    "FACILITATOR",
    "INVITED",
    "PARTICIPANT",
    "PRIORITY_BROADCAST",
    "PRIORITY_NUDGE",
    "PRIORITY_REPLY",
    "STAFF_ROLES",
    "UNKNOWN",
    "Identity",
    "add_contact",
    "add_membership",
    "answer_history",
    "answers_t",
    "audit",
    "audit_t",
    "claim_documents",
    "claim_due",
    "cohort_staff",
    "cohorts",
    "complete_week",
    "contact_by_address",
    "contacts",
    "count_members",
    "create_cohort",
    "create_document",
    "create_person",
    "delete_answers",
    "delete_session",
    "document_by_ref",
    "document_by_token",
    "documents_t",
    "enqueue",
    "find_identity",
    "get_cohort",
    "get_document",
    "get_value",
    "inbound_seen",
    "inbound_t",
    "list_cohorts",
    "list_documents",
    "list_progress",
    "load_answers",
    "lock_cohort",
    "lock_sender",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "mark_unreachable",
    "memberships",
    "menu_people",
    "open_week",
    "outbox_by_external_id",
    "outbox_t",
    "people",
    "progress_t",
    "record_delivery",
    "record_inbound",
    "release_claims",
    "roles_of",
    "save_answer",
    "save_document",
    "save_session",
    "sessions",
    "set_opted_out",
    "set_value",
    "state_t",
    "touch_contact",
    "undelivered",
    "update_cohort",
    "update_person",
]
