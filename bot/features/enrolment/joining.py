"""Joining a cohort: /mulai KODE, then the join flow's consent, name and village, and its
actions (`join` takes the place, `forget` keeps nothing when consent is declined).

An action returns True to let the flow go on, or False after saying why it stopped.
"""

from __future__ import annotations

import re

from bot.core.commands import Command
from bot.core.roles import EVERYONE
from bot.core.turn import Turn
from bot.features.enrolment import invites
from storage import invites as invites_store
from storage import repo

_JOIN_CODE = re.compile(r"^[A-Za-z0-9-]{4,32}$")


async def start(turn: Turn, args: str) -> None:
    """/mulai KODE: join the cohort with that join code (after consent, name, village)."""
    code = args.split()[0] if args.split() else ""
    invite = invites.invite_code(code) if code else None
    if invite is not None:  # a staff invite (invites.py), not a join code
        await invites.redeem(turn, invite)
        return
    if turn.joined:
        await turn.say("join.already_member")
        if not await turn.repeat_question():
            await turn.idle()
        return
    if not code:
        await turn.say("join.need_code")
        return
    cohort = await repo.get_cohort(turn.conn, join_code=code) if _JOIN_CODE.match(code) else None
    if cohort is None:
        await turn.say("join.bad_code", {"code": code[:32]})
        return
    if await repo.count_members(turn.conn, cohort_id=cohort.id) >= cohort.capacity:
        await turn.say("join.cohort_full", {"capacity": cohort.capacity, "code": cohort.code})
        return
    await turn.say("join.found", {"cohort_name": cohort.name})
    await turn.start_flow(turn.content.flows["join"], cohort_id=cohort.id)


async def join(turn: Turn) -> bool:
    """Make the person a participant of the cohort they are joining, if there is room."""
    cohort_id = turn.identity.session_cohort_id
    cohort = await repo.lock_cohort(turn.conn, cohort_id=cohort_id) if cohort_id else None
    if cohort is None:
        await turn.say("join.bad_code", {"code": ""})
        return False
    if turn.identity.cohort_id is not None:
        await turn.say("join.already_member")
        return False
    # Pre-registered by `jamaah cohort import`: their place is kept; they take it now.
    held = await invites_store.accept_invited(
        turn.conn, person_id=turn.person_id, cohort_id=cohort.id, now=turn.now
    )
    if not held:
        members = await repo.count_members(turn.conn, cohort_id=cohort.id)
        if members >= cohort.capacity:
            await turn.say("join.cohort_full", {"capacity": cohort.capacity, "code": cohort.code})
            return False
    answers = await turn.answers()
    # Name and village a pre-registered person confirmed are those the import gave.
    name = str(answers["profile.name"].value) if "profile.name" in answers else turn.identity.name
    village = (
        str(answers["profile.village"].value)
        if "profile.village" in answers
        else turn.identity.village
    )
    if not held:
        await repo.add_membership(
            turn.conn,
            person_id=turn.person_id,
            cohort_id=cohort.id,
            role=repo.PARTICIPANT,
            now=turn.now,
        )
    await invites_store.drop_invited(turn.conn, person_id=turn.person_id)  # any other place
    privacy = turn.content.program.privacy
    await repo.update_person(
        turn.conn,
        person_id=turn.person_id,
        name=name,
        village=village,
        consent_at=turn.now,
        consent_version=privacy.version if privacy else None,
    )
    staff = await repo.cohort_staff(turn.conn, cohort_id=cohort.id)
    facilitator = next((s.name for s in staff if s.role == repo.FACILITATOR), None)
    turn.update_identity(
        name=name,
        village=village,
        consent_at=turn.now,
        consent_version=privacy.version if privacy else None,
        cohort_id=cohort.id,
        cohort_name=cohort.name,
        cohort_code=cohort.code,
        meeting_day=cohort.meeting_day,
        facilitator=facilitator,
    )
    return True


async def forget(turn: Turn) -> bool:
    """The person declined: keep nothing of what they told us, nor what a facilitator's
    import file said of them (their pre-registration goes)."""
    await repo.delete_answers(turn.conn, person_id=turn.person_id, now=turn.now)
    await invites_store.drop_invited(turn.conn, person_id=turn.person_id)
    await repo.update_person(
        turn.conn,
        person_id=turn.person_id,
        name=None,
        village=None,
        consent_at=None,
        consent_version=None,
    )
    turn._answers = {}
    turn.update_identity(name=None, village=None)
    return True


JOIN_ACTIONS = {"join": join, "forget": forget}

COMMANDS = (Command("mulai", ("start", "gabung", "join"), start, EVERYONE),)
