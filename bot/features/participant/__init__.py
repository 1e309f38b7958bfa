"""Everyone's own tools: /bantuan, /bahasa, /progres, /berhenti, and what a participant
with nothing open, or a stranger, is told."""

from bot.core.feature import Feature
from bot.features.participant import commands, optout

FEATURE = Feature(
    name="participant",
    commands=(*commands.COMMANDS, *optout.COMMANDS),
    idle=commands.idle,
    outsider=commands.outsider,
    messages=(
        "common.help.participant",
        "common.help.staff",
        "common.help.guest",
        "common.language.unknown",
        "common.language.switched",
        "common.not_joined",
        "common.staff_idle",
        "common.progress",
        "common.idle.all_done",
        "common.idle.waiting",
        "common.optout.done",
    ),
)
