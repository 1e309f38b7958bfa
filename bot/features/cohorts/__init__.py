"""The cohort views for staff: /kelompok (the roster and where each participant stands)
and /tertinggal (who needs a visit, and why)."""

from bot.core.feature import Feature
from bot.features.cohorts import views

FEATURE = Feature(
    name="cohorts",
    commands=views.COMMANDS,
    messages=("checkin.roster", "checkin.behind"),
)
