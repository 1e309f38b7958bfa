"""`jamaah simulate`: scripted cohorts through the programme on the simulated clock."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import cli
from bot.cli.simulate import next_monday
from bot.simulate import Options, format_summary, progress_printer, simulate
from content.loader import Content
from storage.db import make_engine
from storage.models import Outbox

START = dt.date(2027, 1, 4)  # a Monday
OPTIONS = Options(cohorts=2, participants=6, weeks=4, seed=7, start=START)

_RUNS: dict[str, tuple[dict[str, Any], str]] = {}


async def run(tmp: Path, content: Content, name: str) -> tuple[dict[str, Any], str]:
    """One small simulation (kept for the tests of this module), and its database URL."""
    if name not in _RUNS:
        url = f"sqlite+aiosqlite:///{tmp}/{name}.db"
        _RUNS[name] = (await simulate(url, OPTIONS, content=content), url)
    return _RUNS[name]


@pytest.fixture
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.getbasetemp())


def people(summary: dict[str, Any], persona: str) -> list[dict[str, Any]]:
    return [p for p in summary["people"] if p["persona"] == persona]


async def test_every_persona_behaves_and_the_bot_answers_all_of_them(
    tmp: Path, content: Content
) -> None:
    summary, _url = await run(tmp, content, "first")
    weeks = list(range(1, OPTIONS.weeks + 1))
    assert summary["stuck"] == []
    assert {p["persona"] for p in summary["people"]} == {"diligent", "late", "silent", "stopper"}

    for person in people(summary, "diligent"):  # finish every week, never nudged
        assert person["weeks_done"] == weeks, person
        assert person["received"].get("reminder", 0) == 0, person
        assert person["alerts_about"] == 0
    for person in people(summary, "silent"):  # week 1, then reminders and an alert
        assert person["weeks_done"] == [1], person
        assert person["received"]["reminder"] >= 2, person
        assert person["alerts_about"] >= 1, person
    for person in people(summary, "stopper"):  # diligent up to their week, then nothing
        assert person["weeks_done"] == list(range(1, person["stop_week"])), person
    for person in people(summary, "late"):  # later, but they get there (one week behind at most)
        assert person["weeks_done"][: OPTIONS.weeks - 1] == weeks[:-1], person

    silent = len(people(summary, "silent"))
    assert summary["alerts_raised"] >= silent
    assert summary["messages_by_kind"]["alert"] >= silent  # one facilitator each
    assert summary["reminders_sent"] == summary["messages_by_kind"]["reminder"] >= 2 * silent
    assert summary["completion_by_week"][1] == OPTIONS.cohorts * OPTIONS.participants
    assert summary["completion_by_week"][4] >= len(people(summary, "diligent"))


async def test_messages_per_kind_add_up_to_the_outbox(tmp: Path, content: Content) -> None:
    summary, url = await run(tmp, content, "first")
    db = make_engine(url)
    try:
        async with db.connect() as conn:
            rows = (await conn.execute(select(func.count()).select_from(Outbox))).scalar_one()
            kinds = dict(
                (await conn.execute(select(Outbox.kind, func.count()).group_by(Outbox.kind))).all()
            )
    finally:
        await db.dispose()
    assert sum(summary["messages_by_kind"].values()) == summary["messages_total"] == rows
    assert summary["messages_by_kind"] == kinds
    assert summary["outbox_status"] == {"sent": rows}  # everything went out
    assert summary["delivered"] == rows  # and reached the (recording) channel
    assert {"reply", "unlock", "reminder", "meeting", "digest", "alert"} <= set(kinds)


async def test_the_same_seed_gives_the_same_summary(tmp: Path, content: Content) -> None:
    first, _ = await run(tmp, content, "first")
    again, _ = await run(tmp, content, "again")
    # Only the wall time may differ (how fast it runs is no test's business: a busy
    # machine took 32-109 s where a quiet one takes under 30).
    assert {**first, "wall_time_s": 0} == {**again, "wall_time_s": 0}


async def test_the_summary_reads_well(tmp: Path, content: Content) -> None:
    summary, _ = await run(tmp, content, "first")
    text = format_summary(summary)
    assert "Simulated 2 cohort(s) x 6 participants (12) for 4 week(s) from 2027-01-04" in text
    assert "  week  1:   12/12" in text
    assert f"Reminders sent: {summary['reminders_sent']}" in text
    assert "Stuck participants: 0" in text
    assert "silent" in text and "diligent" in text


def test_progress_is_a_line_a_week_when_not_a_terminal() -> None:
    out = io.StringIO()
    show = progress_printer(out)
    for day in range(15):
        show(day, 14)
    assert out.getvalue().splitlines() == [
        "simulated week 0: day 0/14",
        "simulated week 1: day 7/14",
        "simulated week 2: day 14/14",
    ]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def with_a_cohort(url: str) -> None:
    code, _, _ = run_cli(
        [
            "cohort", "create", "--db", url, "--code", "TRITIS-01", "--name", "Jamaah Tritis",
            "--region", "jawa-tengah/salatiga/tritis", "--start", "2027-01-04",
        ]
    )  # fmt: skip
    assert code == 0


def test_the_command_refuses_a_database_with_cohorts_unless_reused(tmp: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp}/busy.db"
    with_a_cohort(url)
    code, out, err = run_cli(["simulate", "--db", url, "--weeks", "1", "--participants", "1"])
    assert code == 2 and "has cohorts already" in err and "--reuse" in err and out == ""
    code, _, err = run_cli(["simulate", "--participants", "26"])
    assert code == 2 and "--participants: between 1 and 25" in err
    code, _, err = run_cli(["simulate", "--weeks", "17"])
    assert code == 2 and "--weeks: between 1 and 16" in err


def test_the_command_runs_and_prints_json(tmp: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp}/reused.db"
    with_a_cohort(url)  # --reuse: the simulated cohorts go beside it
    argv = ["simulate", "--db", url, "--reuse", "--participants", "2", "--weeks", "1"]
    code, out, err = run_cli([*argv, "--seed", "3", "--start", "2027-01-04", "--json"])
    assert code == 0, err
    summary = json.loads(out)
    assert summary["completion_by_week"] == {"1": 2}
    assert summary["messages_by_kind"]["reply"] > 10
    assert "simulated week 1: day 7/7" in err  # the progress, on stderr


def test_next_monday() -> None:
    assert next_monday(dt.date(2026, 11, 22)) == dt.date(2026, 11, 23)  # a Sunday
    assert next_monday(dt.date(2026, 11, 23)) == dt.date(2026, 11, 30)  # a Monday


async def test_a_question_the_answerer_cannot_pass_is_a_stuck_participant_not_a_crash(
    tmp: Path, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.simulate import run as module

    real = module.answer_for

    def refuses_dues(step: Any, **kwargs: Any) -> str:
        return "terserah kak" if step.save == "w1.dues" else real(step, **kwargs)

    monkeypatch.setattr(module, "answer_for", refuses_dues)
    options = Options(cohorts=1, participants=1, weeks=1, seed=1, start=START)
    summary = await simulate(f"sqlite+aiosqlite:///{tmp}/stuck.db", options, content=content)
    [stuck] = summary["stuck"]
    assert (stuck["flow"], stuck["step"]) == ("week01", "dues")
    assert "same question 3 times" in stuck["detail"] and stuck["bot_said"]
    assert summary["completion_by_week"] == {1: 0}
    assert "Stuck participants: 1" in format_summary(summary)


def test_progress_is_a_bar_redrawn_in_place_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    show = progress_printer(out)
    for day in (0, 2, 4):
        show(day, 4)
    assert out.getvalue() == (
        f"\r[{'.' * 30}] day 0/4\r[{'#' * 15}{'.' * 15}] day 2/4\r[{'#' * 30}] day 4/4\n"
    )


async def test_a_paused_run_reaches_the_same_weeks_and_sends_nothing_but_the_pause_then(
    tmp: Path, content: Content
) -> None:
    """Two weeks' pause after week 2 (as for Lebaran): everyone gets the same weeks done as
    without it; while it lasts participants get the pause's two messages and nothing else."""
    plain, _ = await run(tmp, content, "first")
    first, last = START + dt.timedelta(weeks=2), START + dt.timedelta(weeks=4, days=-1)
    paused_options = Options(
        cohorts=OPTIONS.cohorts,
        participants=OPTIONS.participants,
        weeks=OPTIONS.weeks,
        seed=OPTIONS.seed,
        start=START,
        pause=(first, last),
    )
    url = f"sqlite+aiosqlite:///{tmp}/paused.db"
    paused = await simulate(url, paused_options, content=content)
    assert paused["stuck"] == []
    assert paused["completion_by_week"] == plain["completion_by_week"]
    everyone = OPTIONS.cohorts * OPTIONS.participants
    # One message when it starts and one when it ends, to every participant; no unlock,
    # reminder, meeting or alert on a paused day.
    assert paused["during_pause_by_kind"] == {"broadcast": 2 * everyone}
    assert paused["nudges_by_kind"]["pause"] == 2 * OPTIONS.cohorts
    for kind in ("unlock", "reminder", "alert"):
        assert paused["nudges_by_kind"].get(kind, 0) == plain["nudges_by_kind"].get(kind, 0)
    assert f"Paused {first} to {last}" in format_summary(paused)


def test_the_command_refuses_a_pause_that_cannot_be() -> None:
    argv = ["simulate", "--start", "2027-01-04", "--weeks", "4"]
    code, _, err = run_cli([*argv, "--pause", "2027-02-01"])
    assert code == 2 and "not two dates like 2027-03-08:2027-03-21" in err
    code, _, err = run_cli([*argv, "--pause", "2027-01-20:2027-01-10"])
    assert code == 2 and "its last day is before its first" in err
    code, _, err = run_cli([*argv, "--pause", "2027-01-05:2027-04-30"])
    assert code == 2 and "more than 8 weeks" in err
    code, _, err = run_cli([*argv, "--pause", "2027-03-01:2027-03-05"])
    assert code == 2 and "after the simulated weeks end" in err
