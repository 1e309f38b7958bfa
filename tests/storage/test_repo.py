"""The facade storage/repo.py, kept while call sites move: every name it held before the
split still resolves, to the very object the module that holds it now has. (The two
smaller shims, staff_repo and staffcore_repo, are gone: nothing imports them.)"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from storage import repo

# Old module -> {old name: "new_module.new_name"}: the map a call site moves by.
MOVED = {
    "repo": {
        "ADMIN": "roles.ADMIN",
        "COORDINATOR": "roles.COORDINATOR",
        "FACILITATOR": "roles.FACILITATOR",
        "INVITED": "roles.INVITED",
        "PARTICIPANT": "roles.PARTICIPANT",
        "STAFF_ROLES": "roles.STAFF_ROLES",
        "answers_t": "tables.answers_t",
        "audit_t": "tables.audit_t",
        "cohorts": "tables.cohorts_t",
        "contacts": "tables.contacts_t",
        "documents_t": "tables.documents_t",
        "inbound_t": "tables.inbound_t",
        "memberships": "tables.memberships_t",
        "outbox_t": "tables.outbox_t",
        "people": "tables.people_t",
        "progress_t": "tables.progress_t",
        "sessions": "tables.sessions_t",
        "state_t": "tables.state_t",
        "inbound_seen": "inbound_log.inbound_seen",
        "lock_sender": "inbound_log.lock_sender",
        "record_inbound": "inbound_log.record_inbound",
        "add_membership": "cohorts.add_membership",
        "cohort_staff": "cohorts.cohort_staff",
        "count_members": "cohorts.count_members",
        "create_cohort": "cohorts.create_cohort",
        "get_cohort": "cohorts.get_cohort",
        "list_cohorts": "cohorts.list_cohorts",
        "lock_cohort": "cohorts.lock_cohort",
        "update_cohort": "cohorts.update_cohort",
        "Identity": "people.Identity",
        "add_contact": "people.add_contact",
        "contact_by_address": "people.contact_by_address",
        "create_person": "people.create_person",
        "find_identity": "people.find_identity",
        "mark_unreachable": "people.mark_unreachable",
        "menu_people": "people.menu_people",
        "roles_of": "people.roles_of",
        "set_opted_out": "people.set_opted_out",
        "touch_contact": "people.touch_contact",
        "update_person": "people.update_person",
        "UNKNOWN": "conversation.UNKNOWN",
        "answer_history": "conversation.answer_history",
        "complete_week": "conversation.complete_week",
        "delete_answers": "conversation.delete_answers",
        "delete_session": "conversation.delete_session",
        "list_progress": "conversation.list_progress",
        "load_answers": "conversation.load_answers",
        "open_week": "conversation.open_week",
        "save_answer": "conversation.save_answer",
        "save_session": "conversation.save_session",
        "DELIVERY_FAILED": "outbox.DELIVERY_FAILED",
        "DELIVERY_RANK": "outbox.DELIVERY_RANK",
        "PRIORITY_BROADCAST": "outbox.PRIORITY_BROADCAST",
        "PRIORITY_NUDGE": "outbox.PRIORITY_NUDGE",
        "PRIORITY_REPLY": "outbox.PRIORITY_REPLY",
        "claim_due": "outbox.claim_due",
        "enqueue": "outbox.enqueue",
        "mark_failed": "outbox.mark_failed",
        "mark_retry": "outbox.mark_retry",
        "mark_sent": "outbox.mark_sent",
        "outbox_by_external_id": "outbox.outbox_by_external_id",
        "record_delivery": "outbox.record_delivery",
        "release_claims": "outbox.release_claims",
        "undelivered": "outbox.undelivered",
        "claim_documents": "documents.claim_documents",
        "create_document": "documents.create_document",
        "document_by_ref": "documents.document_by_ref",
        "document_by_token": "documents.document_by_token",
        "get_document": "documents.get_document",
        "list_documents": "documents.list_documents",
        "save_document": "documents.save_received",  # not documents.save_document
        "audit": "audit_log.audit",
        "get_value": "system_state.get_value",
        "set_value": "system_state.set_value",
    },
}
OLD = {"repo": repo}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_each_old_name_is_the_object_its_new_module_holds(old: str) -> None:
    module = OLD[old]
    assert sorted(module.__all__) == sorted(MOVED[old])
    for name, where in MOVED[old].items():
        home, new_name = where.split(".")
        assert getattr(module, name) is getattr(
            importlib.import_module(f"storage.{home}"), new_name
        )


def test_every_name_the_callers_use_is_still_there() -> None:
    """What bot/, tests/ and bench/ read from the old modules (until they move)."""
    root = Path(__file__).parents[2]
    used: dict[str, set[str]] = {old: set() for old in OLD}
    for path in [*root.glob("bot/**/*.py"), *root.glob("tests/**/*.py"), *root.glob("bench/*.py")]:
        tree = ast.parse(path.read_text(), str(path))
        aliases: dict[str, str] = {}  # local name -> old module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "storage":
                for alias in node.names:
                    if alias.name in OLD:
                        aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module in {f"storage.{o}" for o in OLD}:
                used[node.module.removeprefix("storage.")].update(a.name for a in node.names)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                used[aliases[node.value.id]].add(node.attr)
    assert used["repo"]
    for old, names in used.items():
        assert names <= set(OLD[old].__all__), old
