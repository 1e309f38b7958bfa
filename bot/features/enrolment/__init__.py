"""Joining: /mulai KODE and the join flow's actions, staff invites (/undang and their
codes), and participants pre-registered by `jamaah cohort import`."""

from bot.core.feature import Feature
from bot.core.turn import Turn
from bot.features.enrolment import admin, invites, joining


async def _typed_invite(turn: Turn, text: str) -> bool:
    """A staff invite code sent on its own."""
    code = invites.invite_code(text)
    if code is None:
        return False
    await invites.redeem(turn, code)
    return True


FEATURE = Feature(
    name="enrolment",
    commands=(*joining.COMMANDS, *admin.COMMANDS),
    actions=joining.JOIN_ACTIONS,
    greetings=(invites.welcome_preregistered,),
    typed_codes=(_typed_invite,),
    messages=(
        "join.found",
        "join.bad_code",
        "join.cohort_full",
        "join.already_member",
        "join.need_code",
        *(
            f"admin.invite.{name}"
            for name in ("created", "usage", "bad_region", "participant", "used", "yours")
        ),
        *(f"admin.invite.{name}" for name in ("expired", "already", "welcome")),
        "admin.prereg.hello",
    ),
)
