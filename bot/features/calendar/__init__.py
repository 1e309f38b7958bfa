"""The cohort's calendar bends to village life: /jeda pauses it (Ramadan, Lebaran, the
harvest), /pertemuan answers whether a meeting on a holiday still happens."""

from bot.core.feature import Feature
from bot.features.calendar import commands, dialog

FEATURE = Feature(
    name="calendar",
    commands=commands.COMMANDS,
    dialogs=(dialog.PauseDialog(),),
    messages=(
        *(f"jeda.reasons.{r}" for r in dialog.REASONS),
        *(f"jeda.button.{b}" for b in ("lebaran", "edit", "end", "no_reason", "save", "again")),
        *(
            f"jeda.refused.{r}"
            for r in (
                "ends_before_start",
                "too_long",
                "in_the_past",
                "before_start",
                "after_end",
                "overlaps",
                "unknown",
                "over",
            )
        ),
        *(
            f"jeda.{k}"
            for k in (
                "no_cohort",
                "ask_cohort",
                "ask_span",
                "ask_new_span",
                "bad_span",
                "ask_reason",
                "reason_too_long",
                "use_options",
                "preview",
                "saved",
                "no_lebaran",
                "meeting_usage",
                "no_holiday_meeting",
                "meeting_held",
                "meeting_off",
            )
        ),
    ),
)
