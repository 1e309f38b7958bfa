"""One-time invite codes for staff, and the welcome of pre-registered participants.

An admin makes a code (`jamaah staff invite`, or `/undang` in chat); the new staff member
sends it to the bot (`/mulai CODE`, the bare code, `GABUNG CODE` on WhatsApp, or the
Telegram start link) and holds the role from then on. A code works once, until it expires.

Codes look like UNDANG-7KQ3XP9M: the prefix tells them apart from a cohort's join code,
the eight characters come from an alphabet without look-alikes (no 0/O, 1/I/L), 31^8
(about 8.5e11) of them, and case does not matter.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.turn import Turn
from flows.answers import format_date
from flows.pacing import DEFAULT_TIMEZONE
from storage import invites as invites_store
from storage import repo

PREFIX = "UNDANG-"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
LENGTH = 8
DEFAULT_DAYS = 7
MAX_DAYS = 90
_CODE = re.compile(rf"^UNDANG-?([{ALPHABET}]{{{LENGTH}}})$")
JOIN_FLOW = "join"
INVITED_FLOW = "join_invited"  # content/flows/join_invited.yaml
LOCAL_ZONE = DEFAULT_TIMEZONE  # an invite's expiry date is shown in WIB


class InviteError(ValueError):
    """An invite cannot be made as asked (say which)."""


def new_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def invite_code(text: str) -> str | None:
    """`text` as an invite code (UNDANG-XXXXXXXX, upper case), or None when it is not one."""
    word = text.strip().upper()
    if len(word) > 40:
        return None
    match = _CODE.match(word)
    return PREFIX + match.group(1) if match else None


async def create(
    conn: AsyncConnection,
    *,
    role: str,
    created_by: str,
    now: dt.datetime,
    days: int = DEFAULT_DAYS,
    cohort_id: int | None = None,
    cohort_code: str | None = None,
    region: str | None = None,
) -> tuple[str, dt.datetime]:
    """Make an invite (and its audit entry); returns (code, expires_at)."""
    if role not in repo.STAFF_ROLES:
        raise InviteError(f"role must be one of {', '.join(repo.STAFF_ROLES)}")
    if role == repo.FACILITATOR and cohort_id is None:
        raise InviteError("a facilitator belongs to a cohort")
    if role == repo.COORDINATOR and not region:
        raise InviteError("a coordinator oversees a region")
    if role != repo.FACILITATOR:
        cohort_id = None
    if role != repo.COORDINATOR:
        region = None
    if not 1 <= days <= MAX_DAYS:
        raise InviteError(f"an invite lasts 1-{MAX_DAYS} days")
    code = new_code()
    while await invites_store.invite_code_taken(conn, code=code):
        code = new_code()
    expires_at = now + dt.timedelta(days=days)
    invite_id = await invites_store.create_invite(
        conn,
        code=code,
        role=role,
        created_by=created_by,
        now=now,
        expires_at=expires_at,
        cohort_id=cohort_id,
        region=region,
    )
    await repo.audit(
        conn,
        actor=created_by,
        action="invite.create",
        now=now,
        target=f"invite:{invite_id}",
        details={
            "role": role,
            "cohort": cohort_code,
            "region": region,
            "expires_at": expires_at.isoformat(),
        },
    )
    return code, expires_at


def expiry_shown(expires_at: dt.datetime, locale: str) -> str:
    from zoneinfo import ZoneInfo

    local = expires_at.astimezone(ZoneInfo(LOCAL_ZONE))
    clock = f"{local:%H.%M}" if locale == "id" else f"{local:%H:%M}"
    return f"{format_date(local.date(), locale)}, {clock} WIB"


async def redeem(turn: Turn, code: str) -> None:
    """Someone sent an invite code: make them staff, once, or say why not."""
    invite = await invites_store.invite_by_code(turn.conn, code=code)
    if invite is None:  # the same answer as a wrong join code: nothing learnt
        await turn.say("join.bad_code", {"code": code[:32]})
        await turn.repeat_question()
        return
    if turn.joined:
        await turn.say("admin.invite.participant")
        await turn.repeat_question()
        return
    if invite.used_by is not None:
        key = "admin.invite.yours" if invite.used_by == turn.person_id else "admin.invite.used"
        await turn.say(key)
        return
    if invite.expires_at <= turn.now:
        await turn.say("admin.invite.expired")
        return
    held = await repo.roles_of(turn.conn, person_id=turn.person_id)
    if any(_same(r, invite) for r in held):
        await turn.say("admin.invite.already", _where(invite))
        return
    if not await invites_store.claim_invite(
        turn.conn, invite_id=invite.id, person_id=turn.person_id, now=turn.now
    ):
        await turn.say("admin.invite.used")
        return
    try:
        async with turn.conn.begin_nested():
            await repo.add_membership(
                turn.conn,
                person_id=turn.person_id,
                role=invite.role,
                cohort_id=invite.cohort_id,
                region=invite.region,
                now=turn.now,
            )
    except IntegrityError:  # held already after all: the code is spent, the role kept
        pass
    if turn.identity.name is None and turn.identity.display_name:
        # Participants see their facilitator's name: the chat app's name until set.
        name = turn.identity.display_name[:120]
        await repo.update_person(turn.conn, person_id=turn.person_id, name=name)
        turn.update_identity(name=name)
    if turn.identity.session_flow in (JOIN_FLOW, INVITED_FLOW):
        await turn.end_session()  # staff now, not someone joining a cohort
    await invites_store.drop_invited(turn.conn, person_id=turn.person_id)  # nor pre-registered
    await repo.audit(
        turn.conn,
        actor=f"person:{turn.person_id}",
        action="invite.use",
        now=turn.now,
        target=f"invite:{invite.id}",
        details={"role": invite.role, "cohort": invite.cohort_code, "region": invite.region},
    )
    turn.roles_changed = True
    await turn.say("admin.invite.welcome", {"role": invite.role, **_where(invite)})
    roles = await repo.roles_of(turn.conn, person_id=turn.person_id)
    names = sorted({r.code or r.region or "" for r in roles} - {""})
    held_roles = sorted({r.role for r in roles}, key=repo.STAFF_ROLES.index)
    await turn.say("common.help.staff", {"roles": held_roles, "given": ", ".join(names)})


def _same(held: Any, invite: Any) -> bool:
    if held.role != invite.role:
        return False
    if invite.role == repo.FACILITATOR:
        return bool(held.code and held.code == invite.cohort_code)
    if invite.role == repo.COORDINATOR:
        return bool(held.region and held.region == invite.region)
    return True


def _where(invite: Any) -> dict[str, Any]:
    return {"role": invite.role, "given": invite.cohort_code or invite.region or ""}


# --- pre-registered participants ---------------------------------------------------


async def welcome_preregistered(turn: Turn) -> bool:
    """A person `jamaah cohort import` registered writes for the first time: greet them by
    name as a member of their cohort and ask for their consent. True when that was it."""
    cohort = await invites_store.invited_cohort(turn.conn, person_id=turn.person_id)
    if cohort is None:
        return False
    staff = await repo.cohort_staff(turn.conn, cohort_id=cohort.id)
    facilitator = next((s.name for s in staff if s.role == repo.FACILITATOR), None) or ""
    await turn.say(
        "admin.prereg.hello",
        {"cohort_name": cohort.name, "facilitator": facilitator},
    )
    await turn.start_flow(turn.content.flows[INVITED_FLOW], cohort_id=cohort.id)
    return True
