"""Flow tests as console transcripts: what a person types and what the bot must answer.

Each tests/transcripts/*.txt holds input lines ('NAME: text', ':clock +2d', '# comment')
followed by the bot's messages ('→ NAME: ...', further lines indented). The test replays
the inputs on a fresh database and compares the whole transcript. After a deliberate
content change, rewrite them with: .venv/bin/pytest tests/test_transcripts.py
--update-transcripts, and read the diff.

A transcript may start with ':cohort capacity=N' to change the cohort it runs against
(default: TRITIS-01, 'Jamaah Tritis', join code K7P3QX, facilitator Bu Ani, 25 places).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.app import App
from bot.cli import run_script
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
    await make_cohort(app, capacity=int(options.get("capacity", 25)))
    for line in text.splitlines():
        if not is_input(line) or line.startswith(":cohort "):
            continue
        produced.append(line + "\n")
        if line.lstrip().startswith("#"):
            continue
        before = len(out.getvalue())
        errors = io.StringIO()
        assert await run_script(app, [line], err=errors) == 0, errors.getvalue()
        produced.append(out.getvalue()[before:])
    return "".join(produced)


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
