"""Actions a flow asks for (`action:` steps), carried out inside the turn's transaction.

Each returns True to let the flow go on, or False after saying why it stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.programme import PROGRAMME_ACTIONS
from bot.turn import Turn
from storage import repo


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
    members = await repo.count_members(turn.conn, cohort_id=cohort.id)
    if members >= cohort.capacity:
        await turn.say("join.cohort_full", {"capacity": cohort.capacity, "code": cohort.code})
        return False
    answers = await turn.answers()
    name = str(answers["profile.name"].value) if "profile.name" in answers else None
    village = str(answers["profile.village"].value) if "profile.village" in answers else None
    await repo.add_membership(
        turn.conn,
        person_id=turn.person_id,
        cohort_id=cohort.id,
        role=repo.PARTICIPANT,
        now=turn.now,
    )
    await repo.update_person(
        turn.conn, person_id=turn.person_id, name=name, village=village, consent_at=turn.now
    )
    staff = await repo.cohort_staff(turn.conn, cohort_id=cohort.id)
    facilitator = next((s.name for s in staff if s.role == repo.FACILITATOR), None)
    turn.update_identity(
        name=name,
        village=village,
        cohort_id=cohort.id,
        cohort_name=cohort.name,
        cohort_code=cohort.code,
        meeting_day=cohort.meeting_day,
        facilitator=facilitator,
    )
    return True


async def forget(turn: Turn) -> bool:
    """The person declined: keep nothing of what they told us."""
    await repo.delete_answers(turn.conn, person_id=turn.person_id)
    await repo.update_person(
        turn.conn, person_id=turn.person_id, name=None, village=None, consent_at=None
    )
    turn._answers = {}
    turn.update_identity(name=None, village=None)
    return True


ACTIONS: dict[str, Callable[[Turn], Awaitable[bool]]] = {"join": join, "forget": forget}
ACTIONS.update(PROGRAMME_ACTIONS)  # the calculators and the permit advisor
