"""Flow tests as console transcripts: what a person types and what the bot must answer.

Each tests/transcripts/*.txt holds input lines ('NAME: text', ':clock +2d', '# comment')
followed by the bot's messages ('→ NAME: ...', further lines indented). The test replays
the inputs on a fresh database and compares the whole transcript. After a deliberate
content change, rewrite them with: .venv/bin/pytest tests/test_transcripts.py
--update-transcripts, and read the diff.

A transcript may start with ':cohort capacity=N meeting_day=kamis weeks_ago=3' to change
the cohort it runs against (default: TRITIS-01, 'Jamaah Tritis', join code K7P3QX,
facilitator Bu Ani, 25 places, no meeting day yet, starting today). 'today=2027-03-01'
moves the tests' clock on to that day (same time of day) before the cohort is made.

Directives let a transcript begin part-way through the programme, so that it can
show one week without replaying all the weeks before it:
- ':participant NAME name="Siti Aminah" village=Tritis lang=en' makes console user NAME
  a participant of the cohort who has joined (consent given) and has no module open;
- ':done NAME 1-3 w1.goal="..." w7.price=rp:5000 w7.break_even=n:120' marks those weeks
  done for NAME and saves the answers given (text; 'rp:' an amount; 'n:' a number).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from tests.support.transcripts import replay

TRANSCRIPTS = sorted((Path(__file__).resolve().parents[1] / "transcripts").glob("*.txt"))


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
