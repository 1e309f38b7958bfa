"""The staff tools' periodic jobs, run by the scheduler's tick after the programme's own.

A job is `async (scheduler, now) -> TickStats`: it finds what is due in the database
(indexed, so a tick with nothing due reads almost nothing), queues it through the outbox
in its own transaction(s), and returns what it queued (kind → messages). Scheduled
broadcasts and check-in follow-up reminders live here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.staff import broadcasts, checkins

if TYPE_CHECKING:
    from bot.scheduler import Scheduler, TickStats

Job = Callable[["Scheduler", dt.datetime], Awaitable["TickStats"]]

# Each staff module adds its job here (one line each).
JOBS: list[Job] = [
    checkins.follow_up_job,  # check-in follow-up reminders (helper checkin)
    broadcasts.due_job,  # scheduled broadcasts (/siaran)
]
