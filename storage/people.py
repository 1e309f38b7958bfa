"""People and their contacts: who wrote (`find_identity`, one query per turn), a new
person or contact, what a contact's last message changed, opt-out and reachability,
a person's roles, and the contacts whose command menu differs from everyone's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.roles import FACILITATOR, INVITED, PARTICIPANT, STAFF_ROLES
from storage.tables import (
    cohorts_t,
    contacts_t,
    dialogs_t,
    memberships_t,
    people_t,
    sessions_t,
)

# --- who wrote ------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who wrote, with what a turn needs to answer them (one query)."""

    contact_id: int
    person_id: int
    name: str | None
    village: str | None
    language: str
    opted_out: bool
    cohort_id: int | None  # the cohort they take part in, if any
    cohort_name: str | None
    cohort_code: str | None
    meeting_day: str | None
    facilitator: str | None
    session_flow: str | None
    session_step: str | None
    session_state: Mapping[str, Any] | None
    session_cohort_id: int | None
    last_inbound_at: dt.datetime | None
    unreachable: bool
    display_name: str | None
    timezone: str | None  # the cohort's, for local dates
    dialog: str | None = None  # the name of their open dialog (/siaran, /hapus), if any
    consent_version: str | None = None  # the privacy text's version they agreed to
    consent_at: dt.datetime | None = None


def _identity_statement() -> Any:
    facilitator = (
        select(people_t.c.name)
        .select_from(memberships_t.join(people_t, people_t.c.id == memberships_t.c.person_id))
        .where(memberships_t.c.cohort_id == cohorts_t.c.id, memberships_t.c.role == FACILITATOR)
        .order_by(memberships_t.c.id)
        .limit(1)
        .scalar_subquery()
    )
    part = memberships_t.alias("part")
    return (
        select(
            contacts_t.c.id,
            contacts_t.c.person_id,
            people_t.c.name,
            people_t.c.village,
            people_t.c.language,
            contacts_t.c.opted_out,
            cohorts_t.c.id,
            cohorts_t.c.name,
            cohorts_t.c.code,
            cohorts_t.c.meeting_day,
            facilitator,
            sessions_t.c.flow,
            sessions_t.c.step,
            sessions_t.c.state,
            sessions_t.c.cohort_id,
            contacts_t.c.last_inbound_at,
            contacts_t.c.unreachable,
            contacts_t.c.display_name,
            cohorts_t.c.timezone,
            dialogs_t.c.name,
            people_t.c.consent_version,
            people_t.c.consent_at,
        )
        .select_from(
            contacts_t.join(people_t, people_t.c.id == contacts_t.c.person_id)
            .outerjoin(part, and_(part.c.person_id == people_t.c.id, part.c.role == PARTICIPANT))
            .outerjoin(cohorts_t, cohorts_t.c.id == part.c.cohort_id)
            .outerjoin(sessions_t, sessions_t.c.person_id == people_t.c.id)
            .outerjoin(dialogs_t, dialogs_t.c.person_id == people_t.c.id)
        )
        .where(
            contacts_t.c.channel == bindparam("channel"),
            contacts_t.c.address == bindparam("address"),
        )
        .limit(1)
    )


_IDENTITY = _identity_statement()


async def find_identity(conn: AsyncConnection, *, channel: str, address: str) -> Identity | None:
    """Who this contact is, their cohort, its facilitator and their session: one query."""
    row = (await conn.execute(_IDENTITY, {"channel": channel, "address": address})).first()
    return Identity(*row) if row else None


# --- people ---------------------------------------------------------------------------


async def create_person(
    conn: AsyncConnection,
    *,
    channel: str,
    address: str,
    display_name: str | None,
    language: str,
    now: dt.datetime,
    name: str | None = None,
) -> tuple[int, int]:
    """A new person with one contact; returns (person_id, contact_id)."""
    person_id = (
        await conn.execute(
            insert(people_t)
            .values(name=name, language=language, created_at=now)
            .returning(people_t.c.id)
        )
    ).scalar_one()
    contact_id = await add_contact(
        conn,
        person_id=person_id,
        channel=channel,
        address=address,
        now=now,
        display_name=display_name,
    )
    return int(person_id), int(contact_id)


async def update_person(conn: AsyncConnection, *, person_id: int, **values: Any) -> None:
    allowed = {"name", "village", "language", "consent_at", "consent_version"}
    if not values or set(values) - allowed:
        raise TypeError(f"update_person takes {', '.join(sorted(allowed))}")
    await conn.execute(update(people_t).where(people_t.c.id == person_id).values(**values))


async def set_person_details(
    conn: AsyncConnection, *, person_id: int, name: str, village: str | None
) -> None:
    await conn.execute(
        update(people_t).where(people_t.c.id == person_id).values(name=name, village=village)
    )


async def roles_of(conn: AsyncConnection, *, person_id: int) -> Sequence[Row[Any]]:
    """The person's memberships with their cohort's code, if any (a pre-registration,
    not yet consented to, is no role)."""
    stmt = (
        select(memberships_t.c.role, memberships_t.c.region, cohorts_t.c.code, cohorts_t.c.name)
        .select_from(
            memberships_t.outerjoin(cohorts_t, cohorts_t.c.id == memberships_t.c.cohort_id)
        )
        .where(memberships_t.c.person_id == person_id, memberships_t.c.role != INVITED)
        .order_by(memberships_t.c.id)
    )
    return (await conn.execute(stmt)).all()


# --- contacts -------------------------------------------------------------------------


async def add_contact(
    conn: AsyncConnection,
    *,
    person_id: int,
    channel: str,
    address: str,
    now: dt.datetime,
    display_name: str | None = None,
) -> int:
    """Link one more channel address to a person (a facilitator's WhatsApp number)."""
    result = await conn.execute(
        insert(contacts_t)
        .values(
            channel=channel,
            address=address,
            person_id=person_id,
            display_name=display_name,
            opted_out=False,
            unreachable=False,
            created_at=now,
        )
        .returning(contacts_t.c.id)
    )
    return int(result.scalar_one())


async def contact_by_address(
    conn: AsyncConnection, *, channel: str, address: str
) -> Row[Any] | None:
    stmt = select(contacts_t).where(
        contacts_t.c.channel == channel, contacts_t.c.address == address
    )
    return (await conn.execute(stmt)).first()


async def whatsapp_holders(
    conn: AsyncConnection, *, addresses: Sequence[str]
) -> dict[str, Row[Any]]:
    """For each WhatsApp address already known: its person and how many memberships
    (of any role) they hold."""
    if not addresses:
        return {}
    held = (
        select(func.count())
        .where(memberships_t.c.person_id == contacts_t.c.person_id)
        .scalar_subquery()
    )
    found: dict[str, Row[Any]] = {}
    unique = sorted(set(addresses))
    for start in range(0, len(unique), 500):
        stmt = select(
            contacts_t.c.address, contacts_t.c.person_id, held.label("memberships")
        ).where(
            contacts_t.c.channel == "whatsapp",
            contacts_t.c.address.in_(unique[start : start + 500]),
        )
        for row in (await conn.execute(stmt)).all():
            found[row.address] = row
    return found


_TOUCH_CONTACT = (
    update(contacts_t)
    .where(contacts_t.c.id == bindparam("contact_id"))
    .values(
        last_inbound_at=bindparam("now", type_=contacts_t.c.last_inbound_at.type),
        unreachable=False,
        display_name=func.coalesce(
            bindparam("display_name", type_=String()), contacts_t.c.display_name
        ),
    )
)


async def touch_contact(
    conn: AsyncConnection, *, contact_id: int, now: dt.datetime, display_name: str | None
) -> None:
    """The contact just wrote: note the time; they are reachable again."""
    params = {"contact_id": contact_id, "now": now, "display_name": display_name or None}
    await conn.execute(_TOUCH_CONTACT, params)


async def set_opted_out(conn: AsyncConnection, *, contact_id: int, opted_out: bool) -> None:
    """The person asked for no more messages (or for them again)."""
    await conn.execute(
        update(contacts_t).where(contacts_t.c.id == contact_id).values(opted_out=opted_out)
    )


async def mark_unreachable(conn: AsyncConnection, *, contact_id: int) -> None:
    await conn.execute(
        update(contacts_t).where(contacts_t.c.id == contact_id).values(unreachable=True)
    )


async def menu_people(
    conn: AsyncConnection, *, channel: str, default_language: str
) -> dict[str, tuple[str, frozenset[str]]]:
    """Contacts on `channel` whose command menu differs from everyone's: staff, and people
    who chose another language. address -> (language, their staff roles)."""
    stmt = (
        select(contacts_t.c.address, people_t.c.language, memberships_t.c.role)
        .select_from(
            contacts_t.join(people_t, people_t.c.id == contacts_t.c.person_id).outerjoin(
                memberships_t,
                and_(
                    memberships_t.c.person_id == people_t.c.id,
                    memberships_t.c.role.in_(STAFF_ROLES),
                ),
            )
        )
        .where(
            contacts_t.c.channel == channel,
            or_(people_t.c.language != default_language, memberships_t.c.role.is_not(None)),
        )
    )
    found: dict[str, tuple[str, set[str]]] = {}
    for row in (await conn.execute(stmt)).all():
        roles = found.setdefault(row.address, (row.language, set()))[1]
        if row.role:
            roles.add(row.role)
    return {address: (lang, frozenset(roles)) for address, (lang, roles) in found.items()}
