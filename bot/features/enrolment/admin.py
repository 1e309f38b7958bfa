"""Admin and invites: `/undang ROLE KODE|WILAYAH` makes a staff invite.

Redeeming a code is not a command of its own: `/mulai CODE`, `GABUNG CODE`, the bare
code and the Telegram start link all reach bot/features/enrolment/invites.py `redeem`.
"""

from __future__ import annotations

import re

from bot.core.commands import Command
from bot.core.scope import cohort_in_scope, not_in_scope, scope_of
from bot.core.turn import Turn
from bot.features.enrolment import invites
from storage import repo, system_state

REGION = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*$")
ROLE_WORDS = {
    "pendamping": repo.FACILITATOR,
    "fasilitator": repo.FACILITATOR,
    "facilitator": repo.FACILITATOR,
    "koordinator": repo.COORDINATOR,
    "coordinator": repo.COORDINATOR,
    "admin": repo.ADMIN,
}
TELEGRAM_USERNAME_KEY = "telegram.username."  # bot/channels/telegram.py USERNAME_KEY


async def invite(turn: Turn, args: str) -> None:
    """/undang ROLE [KODE|WILAYAH] [DAYS]: a one-time code that makes someone staff."""
    words = args.split()
    role = ROLE_WORDS.get(words[0].lower()) if words else None
    if role is None:
        await turn.say("admin.invite.usage")
        return
    rest = words[1:]
    days = invites.DEFAULT_DAYS
    if rest and rest[-1].isdigit() and (role == repo.ADMIN or len(rest) > 1):
        days = int(rest.pop())
        if not 1 <= days <= invites.MAX_DAYS:
            await turn.say("admin.invite.usage")
            return
    if len(rest) > 1 or (role != repo.ADMIN and not rest):
        await turn.say("admin.invite.usage")
        return
    given = rest[0] if rest else ""
    cohort_id, cohort_code, region = None, None, None
    if role == repo.FACILITATOR:
        cohort = await cohort_in_scope(turn.conn, await scope_of(turn.conn, turn.person_id), given)
        if cohort is None:
            await not_in_scope(turn, given)
            return
        cohort_id, cohort_code = cohort.id, cohort.code
    elif role == repo.COORDINATOR:
        region = given.strip("/").lower()
        if len(region) > 200 or not REGION.match(region):
            await turn.say("admin.invite.bad_region", {"given": given[:60]})
            return
    code, expires_at = await invites.create(
        turn.conn,
        role=role,
        created_by=f"person:{turn.person_id}",
        now=turn.now,
        days=days,
        cohort_id=cohort_id,
        cohort_code=cohort_code,
        region=region,
    )
    names = await system_state.values_with_prefix(turn.conn, prefix=TELEGRAM_USERNAME_KEY)
    bot_link = f"https://t.me/{names[0]}?start={code}" if len(names) == 1 and names[0] else ""
    await turn.say(
        "admin.invite.created",
        {
            "code": code,
            "role": role,
            "given": cohort_code or region or "",
            "expires": invites.expiry_shown(expires_at, turn.locale),
            "bot_link": bot_link,
        },
    )


COMMANDS: tuple[Command, ...] = (Command("undang", ("invite",), invite, (repo.ADMIN,)),)
