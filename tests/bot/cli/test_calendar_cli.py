"""`jamaah cohort pause`, `cohort create --pause-lebaran` and `jamaah holiday`: what an
admin types, what the calendar keeps, and the plain refusals that change nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from contextlib import redirect_stderr, redirect_stdout

import pytest

from bot import cli
from bot.core.calendar import calendar_of
from flows.pacing import Pause
from storage import calendar_repo, repo
from storage.db import make_engine

NOW = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)  # a Friday morning in Salatiga


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Today is 4 December 2026 for the commands, whatever day the tests run."""
    monkeypatch.setattr("bot.cli.calendar.SystemClock", FixedClock)
    monkeypatch.setattr("bot.cli.cohorts.SystemClock", FixedClock)


def jamaah(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def create(url: str, *extra: str) -> str:
    code, out, err = jamaah(
        "cohort", "create", "--db", url, "--code", "TRITIS-01", "--name", "Jamaah Tritis",
        "--region", "jawa-tengah/salatiga/tritis", "--start", "2027-01-04",
        "--meeting-day", "kamis", "--meeting-time", "16:00", *extra,
    )  # fmt: skip
    assert code == 0, err
    return out


def kept_pauses(url: str) -> tuple[Pause, ...]:
    async def read() -> tuple[Pause, ...]:
        db = make_engine(url)
        try:
            async with db.connect() as conn:
                cohort = await repo.get_cohort(conn, code="TRITIS-01")
                return calendar_of(cohort).pauses
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_a_new_cohort_can_pause_for_lebaran_and_says_the_date_is_an_estimate(
    db_url: str,
) -> None:
    out = create(db_url, "--pause-lebaran")
    # Idul Fitri 2027 is estimated for Wednesday 10 March: the pause is the two weeks from
    # that week's Monday, and the weeks after it open two weeks later.
    assert kept_pauses(db_url) == (Pause(dt.date(2027, 3, 8), dt.date(2027, 3, 21)),)
    assert "New pause 1: 2027-03-08 to 2027-03-21 (14 days, Lebaran)" in out
    assert "week 10: 2027-03-22 (was 2027-03-08)" in out
    assert "week 16: 2027-05-03 (was 2027-04-19)" in out
    assert "Meetings no longer announced: 2027-03-11, 2027-03-18" in out
    assert "The last week ends 2027-05-09." in out
    assert "estimate" in out and "--change 1" in out


def test_pause_change_and_cancel_from_the_command_line(db_url: str) -> None:
    create(db_url)
    code, out, err = jamaah(
        "cohort", "pause", "--db", db_url, "TRITIS-01",
        "--from", "2027-02-22", "--to", "2027-03-07", "--reason", "Panen",
    )  # fmt: skip
    assert code == 0, err
    assert "New pause 1: 2027-02-22 to 2027-03-07 (14 days, Panen)" in out
    assert "week 8: 2027-03-08 (was 2027-02-22)" in out
    assert "Kept." in out
    assert kept_pauses(db_url) == (Pause(dt.date(2027, 2, 22), dt.date(2027, 3, 7)),)

    # A dry run shows what would move and keeps nothing.
    code, out, _ = jamaah(
        "cohort", "pause", "--db", db_url, "TRITIS-01", "--from", "2027-04-26",
        "--to", "2027-04-30", "--dry-run",
    )  # fmt: skip
    assert code == 0 and "New pause 2" in out and "Dry run: nothing kept." in out
    assert len(kept_pauses(db_url)) == 1

    # Shortened to one week: the weeks after it come a week earlier than they were.
    code, out, err = jamaah(
        "cohort", "pause", "--db", db_url, "TRITIS-01", "--change", "1", "--to", "2027-02-28"
    )
    assert code == 0, err
    assert "Pause changed: 1: 2027-02-22 to 2027-02-28 (7 days, Panen)" in out
    assert "week 8: 2027-03-01 (was 2027-03-08)" in out
    assert "Meetings announced again: 2027-03-04" in out
    assert kept_pauses(db_url) == (Pause(dt.date(2027, 2, 22), dt.date(2027, 2, 28)),)

    code, out, _ = jamaah("cohort", "pause", "--db", db_url, "TRITIS-01", "--list")
    assert code == 0
    assert "1  2027-02-22 to 2027-02-28  Panen  (coming)" in out

    code, out, err = jamaah("cohort", "pause", "--db", db_url, "TRITIS-01", "--cancel", "1")
    assert code == 0, err
    assert "Pause cancelled: 1" in out and "week 8: 2027-02-22 (was 2027-03-01)" in out
    assert kept_pauses(db_url) == ()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--from", "2027-03-10", "--to", "2027-03-01"), "its last day (--to) is before"),
        (("--from", "2027-02-01", "--to", "2027-04-30"), "it lasts more than 8 weeks"),
        (("--from", "2026-12-01", "--to", "2026-12-10"), "it starts in the past"),
        (("--from", "2027-06-01", "--to", "2027-06-07"), "after the cohort's last week"),
        (("--from", "2027-03-15", "--to", "2027-03-19"), "overlaps pause 1 (2027-03-08 to"),
        (("--from", "8 Maret", "--to", "2027-03-19"), "--from: '8 Maret' is not a date"),
        (("--change", "7", "--to", "2027-03-19"), "no such pause"),
        (("--cancel", "7"), "no such pause"),
        (("--from", "2027-03-01"), "give --from and --to"),
        (("--list", "--cancel", "1"), "give one of --list, --cancel ID or --lebaran"),
    ],
)
def test_a_pause_that_cannot_be_is_refused_and_nothing_changes(
    db_url: str, args: tuple[str, ...], said: str
) -> None:
    create(db_url, "--pause-lebaran")
    before = kept_pauses(db_url)
    code, out, err = jamaah("cohort", "pause", "--db", db_url, "TRITIS-01", *args)
    assert code == 2
    assert said in err, err
    assert "Kept." not in out
    assert kept_pauses(db_url) == before


def test_a_second_pause_may_fall_in_the_weeks_the_first_pushed_later(db_url: str) -> None:
    """Without the Lebaran pause the programme would end on 25 April; with it, week 16
    runs from 3 May, and a harvest pause then is still inside the programme."""
    create(db_url, "--pause-lebaran")
    code, out, err = jamaah(
        "cohort", "pause", "--db", db_url, "TRITIS-01", "--from", "2027-05-03",
        "--to", "2027-05-07", "--reason", "panen",
    )  # fmt: skip
    assert code == 0, err
    assert "week 16: 2027-05-08 (was 2027-05-03)" in out
    assert len(kept_pauses(db_url)) == 2


def test_holidays_added_listed_and_removed(db_url: str) -> None:
    create(db_url)
    add = ("holiday", "add", "--db", db_url, "2027-04-15", "Hari Jadi Kota Salatiga")
    code, out, err = jamaah(*add, "--region", "jawa-tengah/salatiga")
    assert code == 0, err
    assert "Added 2027-04-15 (Hari Jadi Kota Salatiga) for region jawa-tengah/salatiga" in out
    code, out, _ = jamaah(*add, "--region", "jawa-tengah/salatiga")
    assert code == 0 and "already: nothing changed" in out
    code, out, err = jamaah("holiday", "add", "--db", db_url, "2027-05-20", "Sedekah bumi",
                            "--cohort", "TRITIS-01")  # fmt: skip
    assert code == 0, err

    code, out, _ = jamaah("holiday", "list", "--db", db_url, "--year", "2027")
    assert code == 0
    assert "National holidays 2027 (ESTIMATED dates" in out  # no SKB for 2027 in the data
    assert "2027-03-10  Wed  Hari Raya Idul Fitri" in out
    assert "2027-04-15  Thu  Hari Jadi Kota Salatiga  (region jawa-tengah/salatiga)" in out
    assert "2027-05-20  Thu  Sedekah bumi  (cohort TRITIS-01)" in out

    async def local() -> list[tuple[dt.date, str]]:
        db = make_engine(db_url)
        try:
            async with db.connect() as conn:
                return [(h.day, h.name) for h in await calendar_repo.local_holidays(conn)]
        finally:
            await db.dispose()

    assert asyncio.run(local()) == [
        (dt.date(2027, 4, 15), "Hari Jadi Kota Salatiga"),
        (dt.date(2027, 5, 20), "Sedekah bumi"),
    ]
    # Removing needs the same place it was added for.
    code, _, err = jamaah("holiday", "remove", "--db", db_url, "2027-04-15")
    assert code == 2 and "not a holiday added for every cohort" in err
    code, out, err = jamaah(
        "holiday", "remove", "--db", db_url, "2027-04-15", "--region", "jawa-tengah/salatiga"
    )
    assert code == 0, err
    assert asyncio.run(local()) == [(dt.date(2027, 5, 20), "Sedekah bumi")]

    code, _, err = jamaah("holiday", "add", "--db", db_url, "15-04-2027", "X")
    assert code == 2 and "is not a date like 2027-03-08" in err
    code, _, err = jamaah("holiday", "add", "--db", db_url, "2027-04-15", "X", "--cohort", "NOPE")
    assert code == 2 and "no cohort with code 'NOPE'" in err
