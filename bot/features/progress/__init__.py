"""The staff's progress views: /progres across cohorts (a table and a chart), /peserta (one
participant's record) and /ekspor (CSV and XLSX)."""

from bot.core.feature import Feature
from bot.features.progress import commands, table

FEATURE = Feature(
    name="progress",
    commands=commands.COMMANDS,
    dialogs=(commands.PickParticipant(),),
    messages=table.MESSAGES,
)
