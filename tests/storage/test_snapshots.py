"""Snapshots (storage/snapshots.py): a backup restores to the same rows, on SQLite and on
PostgreSQL; a restore refuses a database with data unless forced, refuses a snapshot of
a newer schema, migrates an older one up; rotation keeps the right files."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import repo, snapshots
from storage.db import head_revision, make_engine, stored_revision, upgrade
from tests.support.snapshots import all_rows, another_database
from tests.support.world import START, new_cohort, new_participant


async def filled(url: str) -> None:
    db = make_engine(url)
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort_id = await new_cohort(conn, "TRITIS-01", now=START)
            for name in ("Siti", "Dewi", "Budi"):
                await new_participant(conn, name, cohort_id, now=START)
        await upgrade(db)  # as the bot's start does: the cohort's tallies (derived) made
    finally:
        await db.dispose()


async def test_a_backup_restores_to_the_same_rows(db_url: str, tmp_path: Path) -> None:
    await filled(db_url)
    source = make_engine(db_url)
    try:
        backend = snapshots.backend_of(source)
        snap = await snapshots.backup(source, tmp_path / snapshots.file_name(backend, START))
        expected = await all_rows(source)
    finally:
        await source.dispose()
    assert snap.path.name == f"jamaah-20270104-010000{snapshots.SUFFIXES[backend]}"
    assert snap.revision == head_revision() and snap.size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial
    async with another_database(db_url, tmp_path) as other:
        target = make_engine(other)
        try:
            done = await snapshots.restore(target, snap.path)
            assert await all_rows(target) == expected
        finally:
            await target.dispose()
    assert done.replaced_rows == 0 and done.rows["people"] == 3


async def test_a_backup_never_overwrites_a_file(db: object, tmp_path: Path) -> None:
    assert not isinstance(db, type(None))
    (tmp_path / "x.sqlite3").write_text("mine")
    with pytest.raises(snapshots.SnapshotError, match="exists already"):
        await snapshots.backup(db, tmp_path / "x.sqlite3")  # type: ignore[arg-type]
    assert (tmp_path / "x.sqlite3").read_text() == "mine"


async def test_restore_into_a_database_with_data_is_refused_unless_forced(
    db_url: str, tmp_path: Path
) -> None:
    await filled(db_url)
    source = make_engine(db_url)
    try:
        snap = await snapshots.backup(source, tmp_path / "before.snap")
        async with source.begin() as conn:  # a participant joins after the backup
            await new_participant(conn, "Rina", 1, now=START + dt.timedelta(days=1))
        with pytest.raises(snapshots.RestoreRefused, match=r"holds data .*--force"):
            await snapshots.restore(source, snap.path)
        async with source.begin() as conn:
            assert await repo.find_identity(conn, channel="console", address="rina") is not None
        done = await snapshots.restore(source, snap.path, force=True)
        async with source.begin() as conn:
            assert await repo.find_identity(conn, channel="console", address="rina") is None
            assert await repo.find_identity(conn, channel="console", address="siti") is not None
    finally:
        await source.dispose()
    assert done.replaced_rows > 0


async def test_a_migrated_but_unused_database_counts_as_empty(db_url: str, tmp_path: Path) -> None:
    await filled(db_url)
    source = make_engine(db_url)
    try:
        snap = await snapshots.backup(source, tmp_path / "a.snap")
    finally:
        await source.dispose()
    async with another_database(db_url, tmp_path) as other:
        target = make_engine(other)
        try:
            await upgrade(target)  # `jamaah db upgrade` (or a first `jamaah run`) was done
            done = await snapshots.restore(target, snap.path)
        finally:
            await target.dispose()
    assert done.rows["people"] == 3


async def test_an_older_snapshot_is_migrated_up(db_url: str, tmp_path: Path) -> None:
    source = make_engine(db_url)
    try:
        await upgrade(source, "0007")
        snap = await snapshots.backup(source, tmp_path / "old.snap")
    finally:
        await source.dispose()
    assert snap.revision == "0007"
    async with another_database(db_url, tmp_path) as other:
        target = make_engine(other)
        try:
            done = await snapshots.restore(target, snap.path)
            assert await stored_revision(target) == head_revision()
        finally:
            await target.dispose()
    assert (done.revision, done.head) == ("0007", head_revision())


async def test_a_snapshot_newer_than_the_code_is_refused(db_url: str, tmp_path: Path) -> None:
    source = make_engine(db_url)
    try:
        await upgrade(source)
        async with source.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0042'"))
        snap = await snapshots.backup(source, tmp_path / "new.snap")
    finally:
        await source.dispose()
    async with another_database(db_url, tmp_path) as other:
        target = make_engine(other)
        try:
            with pytest.raises(snapshots.SnapshotError, match=r"newer Jamaah .*0042"):
                await snapshots.restore(target, snap.path)
            assert await snapshots.row_counts(target) == {}  # nothing was written
        finally:
            await target.dispose()


async def test_what_is_not_a_snapshot_is_named_as_such(db_url: str, tmp_path: Path) -> None:
    target = make_engine(db_url)
    (tmp_path / "notes.txt").write_text("hello")
    sqlite3.connect(tmp_path / "other.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    try:
        with pytest.raises(snapshots.SnapshotError, match="not a Jamaah snapshot"):
            await snapshots.restore(target, tmp_path / "notes.txt")
        with pytest.raises(snapshots.SnapshotError, match="does not exist"):
            await snapshots.restore(target, tmp_path / "missing.sqlite3")
        if snapshots.backend_of(target) == snapshots.SQLITE:
            with pytest.raises(snapshots.SnapshotError, match="no Jamaah schema version"):
                await snapshots.restore(target, tmp_path / "other.sqlite3")
        else:
            with pytest.raises(snapshots.SnapshotError, match=r"SQLite snapshot, but .*PostgreSQL"):
                await snapshots.restore(target, tmp_path / "other.sqlite3")
    finally:
        await target.dispose()


async def test_without_pg_dump_the_error_names_the_package(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_engine(db_url)
    try:
        if snapshots.backend_of(db) != snapshots.POSTGRES:
            pytest.skip("pg_dump is for PostgreSQL")
        monkeypatch.setattr(snapshots.shutil, "which", lambda name: None)
        with pytest.raises(
            snapshots.SnapshotError, match=r"pg_dump is not installed.*postgresql-client"
        ):
            await snapshots.backup(db, tmp_path / "x.pgdump")
    finally:
        await db.dispose()
    assert list(tmp_path.iterdir()) == []


def names(*stamps: str) -> list[str]:
    return [f"jamaah-{s}.sqlite3" for s in stamps]


def test_rotation_keeps_seven_days_and_four_weeks() -> None:
    # A backup every night at 02:00 WIB (19:00 UTC the day before) for 60 nights, and
    # on Monday 1 March one more by hand, later than that night's.
    first = dt.datetime(2027, 1, 1, 19, 0, tzinfo=dt.UTC)
    nightly = [snapshots.file_name("sqlite", first + dt.timedelta(days=i)) for i in range(60)]
    by_hand = snapshots.file_name("sqlite", dt.datetime(2027, 3, 1, 21, 0, tzinfo=dt.UTC))
    others = ["notes.txt", "jamaah-export.csv", "jamaah-2027.sqlite3"]
    kept = snapshots.to_keep([*nightly, by_hand, *others], daily=7, weekly=4)
    assert sorted(kept) == [
        # weekly: the newest of each of the two weeks before (Monday to Sunday)
        "jamaah-20270214-190000.sqlite3",
        "jamaah-20270221-190000.sqlite3",
        # daily, the last seven days (the two newest weeks' newest are among them)
        "jamaah-20270223-190000.sqlite3",
        "jamaah-20270224-190000.sqlite3",
        "jamaah-20270225-190000.sqlite3",
        "jamaah-20270226-190000.sqlite3",
        "jamaah-20270227-190000.sqlite3",
        "jamaah-20270228-190000.sqlite3",
        "jamaah-20270301-210000.sqlite3",  # 1 March's newest: the one by hand
    ]
    assert snapshots.to_keep(nightly, daily=2, weekly=0) == set(nightly[-2:])


def test_rotation_removes_only_snapshots(tmp_path: Path) -> None:
    start = dt.datetime(2027, 1, 1, 19, 0, tzinfo=dt.UTC)
    for i in range(10):
        (tmp_path / snapshots.file_name("sqlite", start + dt.timedelta(days=i))).write_text("x")
    (tmp_path / "keep-me.txt").write_text("mine")
    removed = snapshots.rotate(tmp_path, daily=3, weekly=2)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [
        "jamaah-20270103-190000.sqlite3",  # the newest of the week before (Sunday 3 Jan)
        "jamaah-20270108-190000.sqlite3",
        "jamaah-20270109-190000.sqlite3",
        "jamaah-20270110-190000.sqlite3",  # Sunday 10 Jan: a day's and its week's
        "keep-me.txt",
    ]
    assert len(removed) == 6
    assert snapshots.newest(tmp_path) == tmp_path / "jamaah-20270110-190000.sqlite3"
