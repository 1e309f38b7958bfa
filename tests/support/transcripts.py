"""Replaying a console transcript: what each line says, what the bot answered."""

from __future__ import annotations

import datetime as dt
import io
import re
import shlex

from bot.app import App
from bot.cli.chat import run_script
from bot.core.clock import SimulatedClock
from flows.answers import format_number, format_rupiah
from storage import calendar_repo, repo
from tests.support.world import make_cohort


async def replay(app: App, text: str) -> str:
    out = app.console.out
    assert isinstance(out, io.StringIO)
    produced: list[str] = []
    options = {}
    for line in text.splitlines():
        if line.startswith(":cohort "):
            options = dict(part.split("=", 1) for part in line.split()[1:])
            produced.append(line + "\n")
    if "today" in options:  # the story starts later than the tests' Monday
        start = dt.date.fromisoformat(options["today"])
        now = app.clock.now()
        assert isinstance(app.clock, SimulatedClock) and start > now.date(), options
        app.clock.advance(dt.datetime.combine(start, now.timetz()) - now)
    cohort_id = await make_cohort(
        app,
        capacity=int(options.get("capacity", 25)),
        meeting_day=options.get("meeting_day"),
        weeks_ago=int(options.get("weeks_ago", 0)),
    )
    for line in text.splitlines():
        if not is_input(line) or line.startswith(":cohort "):
            continue
        produced.append(line + "\n")
        if line.lstrip().startswith("#"):
            continue
        if line.startswith((":participant ", ":done ", ":holiday ")):
            await seed(app, cohort_id, line)
            continue
        before = len(out.getvalue())
        errors = io.StringIO()
        assert await run_script(app, [line], err=errors) == 0, errors.getvalue()
        produced.append(out.getvalue()[before:])
    return "".join(produced)


def is_input(line: str) -> bool:
    return bool(line.strip()) and not line.startswith(("→ ", "  ", "# clock:"))


async def seed(app: App, cohort_id: int, line: str) -> None:
    """Carry out a ':participant', ':done' or ':holiday' directive (see the docstring
    of tests/system/test_transcripts.py)."""
    word, who, *rest = shlex.split(line[1:])
    fields = dict(part.split("=", 1) for part in rest if "=" in part)
    now = app.clock.now()
    async with app.db.begin() as conn:
        if word == "holiday":  # who is the day; the cohort's own holiday, as an admin adds it
            await calendar_repo.add_holiday(
                conn, day=dt.date.fromisoformat(who), name=rest[0], now=now, cohort_id=cohort_id
            )
            return
        if word == "participant":
            person_id, _ = await repo.create_person(
                conn,
                channel="console",
                address=who,
                display_name=who,
                language=fields.get("lang", "id"),
                now=now,
                name=fields.get("name", who),
            )
            privacy = app.content.program.privacy
            await repo.update_person(
                conn,
                person_id=person_id,
                village=fields.get("village"),
                consent_at=now,
                consent_version=privacy.version if privacy else None,
            )
            await repo.add_membership(
                conn, person_id=person_id, role=repo.PARTICIPANT, cohort_id=cohort_id, now=now
            )
            return
        identity = await repo.find_identity(conn, channel="console", address=who)
        assert identity is not None, f"{line}: {who} is no participant yet"
        first, _, last = rest[0].partition("-")
        # The weeks were done elsewhere: a module the calendar had opened for one of
        # them is closed, as finishing it would have closed it.
        if identity.session_flow is not None:
            await repo.delete_session(conn, person_id=identity.person_id)
        for week in range(int(first), int(last or first) + 1):
            await repo.complete_week(
                conn, person_id=identity.person_id, cohort_id=cohort_id, week=week, now=now
            )
        for key, typed in fields.items():
            typed_number = re.fullmatch(r"(rp|n):(-?[0-9]+)", typed)
            value: object = typed
            display = {"id": typed, "en": typed}
            if typed_number is not None:
                value = int(typed_number[2])
                display = {
                    loc: format_rupiah(int(value))
                    if typed_number[1] == "rp"
                    else format_number(int(value), loc)
                    for loc in ("id", "en")
                }
            await repo.save_answer(
                conn,
                person_id=identity.person_id,
                key=key,
                value=value,
                display=display,
                now=now,
            )
