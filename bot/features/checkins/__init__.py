"""/checkin: a facilitator logs a meeting, visit or call (attendance, notes, a photo, a
follow-up), edits it, and sees the history; the job that reminds them of follow-ups."""

from bot.core.feature import Feature
from bot.features.checkins import commands, dialog

FEATURE = Feature(
    name="checkins",
    commands=commands.COMMANDS,
    dialogs=(dialog.CheckinDialog(),),
    jobs=(dialog.follow_up_job,),
    messages=(
        *(f"checkin.kinds.{k}" for k in ("meeting", "visit", "call")),
        *(f"checkin.button.{k}" for k in ("done", "all", "skip", "none")),
        *(f"checkin.edit_what.{k}" for k in ("note", "attendance", "rating", "follow")),
        *(
            f"checkin.{k}"
            for k in [
                "no_cohort",
                "which_cohort",
                "ask_cohort",
                "ask_kind",
                "no_participants",
                "ask_attendance",
                "ask_participant",
                "ask_note",
                "ask_photo",
                "ask_rating",
                "ask_follow_up",
                "bad_date",
                "bad_numbers",
                "note_too_long",
                "use_options",
                "saved",
                "edited",
                "ask_edit",
                "edit_none",
                "edit_bad_number",
                "edit_not_yours",
                "edit_too_late",
                "history_empty",
                "history",
                "follow_up_reminder",
            ]
        ),
    ),
)
