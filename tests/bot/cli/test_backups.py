"""`jamaah backup` and `jamaah restore` as an operator runs them: what they print, and
what they refuse (bot/cli/backups.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.db import head_revision, is_sqlite
from tests.support import cli
from tests.support.snapshots import another_database

COHORT = ("cohort", "create", "--code", "TRITIS-01", "--name", "Jamaah Tritis")
WHERE = ("--region", "jawa-tengah/salatiga/tritis", "--start", "2027-01-04")


async def test_backup_then_restore_into_an_empty_database(db_url: str, tmp_path: Path) -> None:
    cli.run("db", "upgrade", db=db_url)
    cli.run(*COHORT, *WHERE, db=db_url)
    made = cli.run("backup", f"{tmp_path}/backups/", db=db_url)
    files = list((tmp_path / "backups").iterdir())
    assert len(files) == 1 and files[0].name.startswith("jamaah-")
    assert files[0].suffix == (".sqlite3" if is_sqlite(db_url) else ".pgdump")
    assert f"Backup written: {files[0]} (" in made.stdout
    assert f"schema {head_revision()}" in made.stdout
    assert f"Restore it with: jamaah restore {files[0]}" in made.stdout

    refused = cli.run("restore", str(files[0]), db=db_url, check=False)
    assert refused.returncode == 1
    assert "not restored: the database already holds data (" in refused.stderr
    assert "1 cohorts" in refused.stderr and "--force" in refused.stderr

    async with another_database(db_url, tmp_path) as other:
        restored = cli.run("restore", str(files[0]), db=other)
        assert "It holds: " in restored.stdout and "1 cohorts" in restored.stdout
        assert "Start the bot again with: jamaah run" in restored.stdout
        listed = cli.run("cohort", "list", db=other)
        assert "TRITIS-01" in listed.stdout

    forced = cli.run("restore", "--force", str(files[0]), db=db_url)
    assert "was replaced" in forced.stdout


async def test_backup_goes_to_the_backup_dir_by_default(db_url: str, tmp_path: Path) -> None:
    cli.run("db", "upgrade", db=db_url)
    os.environ["JAMAAH_BACKUP_DIR"] = str(tmp_path / "nightly")
    try:
        cli.run("backup", db=db_url)
    finally:
        del os.environ["JAMAAH_BACKUP_DIR"]
    assert [p.name[:7] for p in (tmp_path / "nightly").iterdir()] == ["jamaah-"]


async def test_a_backup_that_cannot_be_written_says_why(db_url: str, tmp_path: Path) -> None:
    cli.run("db", "upgrade", db=db_url)
    (tmp_path / "a-file").write_text("not a folder")
    failed = cli.run("backup", f"{tmp_path}/a-file/x.snap", db=db_url, check=False)
    assert failed.returncode == 1
    assert "the backup was not made: the backup folder" in failed.stderr
    assert "Traceback" not in failed.stderr


async def test_a_restore_of_something_else_is_refused_plainly(db_url: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    failed = cli.run("restore", str(tmp_path / "notes.txt"), db=db_url, check=False)
    assert failed.returncode == 1
    assert "is not a Jamaah snapshot" in failed.stderr and "Traceback" not in failed.stderr


async def test_without_the_postgresql_client_the_message_names_the_package(
    db_url: str, tmp_path: Path
) -> None:
    if is_sqlite(db_url):
        pytest.skip("SQLite needs nothing installed")
    cli.run("db", "upgrade", db=db_url)
    empty = tmp_path / "bin"
    empty.mkdir()
    path = os.environ["PATH"]
    os.environ["PATH"] = str(empty)  # no pg_dump to be found
    try:
        failed = cli.run("backup", str(tmp_path), db=db_url, check=False)
    finally:
        os.environ["PATH"] = path
    assert failed.returncode == 1
    assert "pg_dump is not installed" in failed.stderr
    assert "apt-get install postgresql-client" in failed.stderr
