"""/siaran (/broadcast): a facilitator's message to their cohorts, now or at a local time,
with a preview, and its report; the job that sends the scheduled ones."""

from bot.core.feature import Feature
from bot.features.broadcasts import commands, dialog

FEATURE = Feature(
    name="broadcasts",
    commands=commands.COMMANDS,
    dialogs=(dialog.BroadcastDialog(),),
    jobs=(dialog.due_job,),
    messages=(
        "siaran.message",
        "siaran.option.all",
        "siaran.option.behind",
        "siaran.option.send",
        "siaran.option.schedule",
        "siaran.option.edit",
        "siaran.option.cancel",
        "siaran.no_cohorts",
        "siaran.too_many_cohorts",
        "siaran.ask_audience",
        "siaran.ask_text",
        "siaran.ask_new_text",
        "siaran.too_long",
        "siaran.nobody",
        "siaran.preview_intro",
        "siaran.preview",
        "siaran.ask_when",
        "siaran.bad_when",
        "siaran.past",
        "siaran.too_far",
        "siaran.scheduled",
        "siaran.queued",
        "siaran.already",
        "siaran.cancel_usage",
        "siaran.cannot_cancel",
        "siaran.cancelled",
        "siaran.status_usage",
        "siaran.status_none",
        "siaran.status_unknown",
        "siaran.status",
    ),
)
