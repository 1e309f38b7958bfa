"""Flow tests as console transcripts: what a person types and what the bot must answer.

Each tests/transcripts/*.txt holds input lines ('NAME: text', ':clock +2d', '# comment')
followed by the bot's messages ('→ NAME: ...', further lines indented). The test replays
the inputs on a fresh database and compares the whole transcript. After a deliberate
content change, rewrite them with: .venv/bin/pytest tests/test_transcripts.py
--update-transcripts, and read the diff.

A transcript may start with ':cohort capacity=N meeting_day=kamis weeks_ago=3' to change
the cohort it runs against (default: TRITIS-01, 'Jamaah Tritis', join code K7P3QX,
facilitator Bu Ani, 25 places, no meeting day yet, starting today).

Two directives let a transcript begin part-way through the programme, so that it can
show one week without replaying all the weeks before it:
- ':participant NAME name="Siti Aminah" village=Tritis lang=en' makes console user NAME
  a participant of the cohort who has joined (consent given) and has no module open;
- ':done NAME 1-3 w1.goal="..." w7.price=rp:5000 w7.break_even=n:120' marks those weeks
  done for NAME and saves the answers given (text; 'rp:' an amount; 'n:' a number).
"""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest

from bot.app import App
from bot.cli.chat import run_script
from flows.answers import format_number, format_rupiah
from storage import repo
from tests.conftest import make_cohort

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


def is_input(line: str) -> bool:
    return bool(line.strip()) and not line.startswith(("→ ", "  ", "# clock:"))


async def replay(app: App, text: str) -> str:
    out = app.console.out
    assert isinstance(out, io.StringIO)
    produced: list[str] = []
    options = {}
    for line in text.splitlines():
        if line.startswith(":cohort "):
            options = dict(part.split("=", 1) for part in line.split()[1:])
            produced.append(line + "\n")
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
        if line.startswith((":participant ", ":done ")):
            await seed(app, cohort_id, line)
            continue
        before = len(out.getvalue())
        errors = io.StringIO()
        assert await run_script(app, [line], err=errors) == 0, errors.getvalue()
        produced.append(out.getvalue()[before:])
    return "".join(produced)


async def seed(app: App, cohort_id: int, line: str) -> None:
    """Carry out a ':participant' or ':done' directive (see the module's docstring)."""
    word, who, *rest = shlex.split(line[1:])
    fields = dict(part.split("=", 1) for part in rest if "=" in part)
    now = app.clock.now()
    async with app.db.begin() as conn:
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
            await repo.update_person(
                conn, person_id=person_id, village=fields.get("village"), consent_at=now
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


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
async def test_transcript(app: App, path: Path, request: pytest.FixtureRequest) -> None:
    expected = path.read_text(encoding="utf-8")
    actual = await replay(app, expected)
    if request.config.getoption("--update-transcripts"):
        path.write_text(actual, encoding="utf-8")
        return
    assert actual == expected, (
        f"{path.name} differs; if the content change is deliberate, rerun with "
        "--update-transcripts and review the diff"
    )


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 3
