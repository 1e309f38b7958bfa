"""`jamaah simulate`: whole cohorts through the programme on the simulated clock.

- run.py: the simulation (cohorts, scripted people, the clock moved on hour by hour);
- answers.py: what a scripted participant types (pure, tested on its own);
- the summary is in run.py beside what it counts.
"""

from bot.simulate.run import (
    Options,
    RecordingChannel,
    format_summary,
    has_cohorts,
    progress_printer,
    simulate,
)

__all__ = [
    "Options",
    "RecordingChannel",
    "format_summary",
    "has_cohorts",
    "progress_printer",
    "simulate",
]
