"""Snapshots of the database: taken while the bot runs, restored into an empty database.

- SQLite: `VACUUM INTO` on a connection of its own (in a thread, so the event loop keeps
  serving): one read transaction, so the copy is of one moment while the bot goes on
  writing (WAL). Never a file copy, which can catch a page half written.
- PostgreSQL: `pg_dump --format=custom` (one repeatable-read transaction); restored with
  `pg_restore`. Both are the PostgreSQL client tools, not Python: when they are missing
  the error says what to install.

A snapshot is written beside its final name and renamed when complete, so a half-written
file never carries the `jamaah-*` name that rotation and `jamaah doctor` look for.

`restore` checks the snapshot's schema version (Alembic) against the code's migrations,
refuses one newer than the code, refuses a database that holds data unless forced,
releases what the snapshot held as being sent (no sender is in flight in a restored
database: those messages go again, as after a crash) and migrates up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import outbox
from storage.db import MIGRATIONS, upgrade

SQLITE, POSTGRES = "sqlite", "postgresql"
SUFFIXES = {SQLITE: ".sqlite3", POSTGRES: ".pgdump"}
# jamaah-YYYYMMDD-HHMMSS.sqlite3 / .pgdump, the time in UTC: what rotation and
# `jamaah doctor` (the last backup's age) look for.
NAME = re.compile(r"^jamaah-(\d{8})-(\d{6})\.(sqlite3|pgdump)$")
PARTIAL = ".partial"
# Tables a database holds before anyone used it (the schema version; the bot's own notes).
NOT_DATA = frozenset({"alembic_version", "system_state"})
INSTALL_PG_CLIENT = (
    "install the PostgreSQL client tools (Debian/Ubuntu: sudo apt-get install "
    "postgresql-client; their version must be at least the server's), then try again"
)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(None|['\"]([^'\"]+)['\"])", re.M)


class SnapshotError(Exception):
    """A backup or restore that could not be made; the text says why and what to do."""


class RestoreRefused(SnapshotError):
    """The target database holds data and the restore was not forced."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    size: int  # bytes
    seconds: float
    revision: str | None  # the schema version it holds


@dataclass(frozen=True)
class Restored:
    revision: str  # the snapshot's schema version
    head: str | None  # the schema version after migrating up
    replaced_rows: int  # rows the database held before (a forced restore)
    rows: dict[str, int] = field(default_factory=dict)  # table → rows, after
    released: int = 0  # messages the snapshot held as being sent, queued again


def backend_of(engine: AsyncEngine) -> str:
    name = engine.dialect.name
    if name not in SUFFIXES:
        raise SnapshotError(f"a {name} database cannot be backed up by Jamaah")
    return name


def file_name(backend: str, now: dt.datetime) -> str:
    """The snapshot's file name for a backup taken `now`: jamaah-YYYYMMDD-HHMMSS.<kind>."""
    return f"jamaah-{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}{SUFFIXES[backend]}"


def taken_at(name: str) -> dt.datetime | None:
    """When the snapshot of this file name was taken (UTC); None for any other name."""
    found = NAME.match(name)
    if found is None:
        return None
    try:
        stamp = dt.datetime.strptime(found.group(1) + found.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return stamp.replace(tzinfo=dt.UTC)


# --- backup ---------------------------------------------------------------------------


async def backup(engine: AsyncEngine, dest: Path) -> Snapshot:
    """Write a snapshot of the database to `dest` (a file that does not exist yet)."""
    backend = backend_of(engine)
    dest = Path(dest)
    if dest.exists():
        raise SnapshotError(f"{dest} exists already; give another file name (or a folder)")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SnapshotError(
            f"the backup folder {dest.parent} cannot be made ({error.strerror}); "
            "check the path and its permissions"
        ) from None
    partial = dest.with_name(f".{dest.name}{PARTIAL}")
    started = time.monotonic()
    try:
        if backend == SQLITE:
            await asyncio.to_thread(_vacuum_into, _sqlite_path(engine.url), partial)
            revision = await asyncio.to_thread(_sqlite_revision, partial)
        else:
            await _pg_dump(engine.url, partial)
            revision = await _pg_dump_revision(partial)
        os.replace(partial, dest)
    except OSError as error:
        raise SnapshotError(
            f"the snapshot could not be written to {dest.parent} ({error.strerror}); "
            "check the free space and the folder's permissions"
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return Snapshot(dest, dest.stat().st_size, time.monotonic() - started, revision)


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:":
        raise SnapshotError("an in-memory database has nothing on disk to back up")
    path = Path(database).expanduser()
    if not path.exists():
        raise SnapshotError(f"the database file {path} does not exist; check JAMAAH_DATABASE_URL")
    return path


def _vacuum_into(source: Path, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    conn = sqlite3.connect(source, timeout=30)
    try:
        conn.execute("VACUUM INTO ?", (str(dest),))
    except sqlite3.Error as error:
        raise SnapshotError(
            f"SQLite could not write the snapshot ({error}); check the free space of the "
            "backup folder"
        ) from None
    finally:
        conn.close()


def _sqlite_revision(path: Path) -> str | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not exists:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except sqlite3.DatabaseError:
        raise SnapshotError(f"{path} is not a readable SQLite snapshot") from None
    finally:
        conn.close()


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SnapshotError(
            f"{name} is not installed, so PostgreSQL cannot be backed up or "
            f"restored: {INSTALL_PG_CLIENT}"
        )
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, and the environment carrying its password (kept off
    the command line, where other users of the machine could read it)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


async def _run(argv: Sequence[str], env: dict[str, str]) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate()
    return int(process.returncode or 0), out, err


def _tool_failed(tool: str, code: int, err: bytes) -> SnapshotError:
    lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
    said = lines[-1].strip() if lines else "no message"
    hint = ""
    if "version mismatch" in said or "unsupported version" in said:
        hint = f"; {INSTALL_PG_CLIENT}"
    elif "connection" in said or "password" in said:
        hint = "; check JAMAAH_DATABASE_URL and that the server runs"
    return SnapshotError(f"{tool} failed (exit status {code}): {said}{hint}")


async def _pg_dump(url: URL, dest: Path) -> None:
    tool = _pg_tool("pg_dump")
    target, env = _libpq(url)
    code, _out, err = await _run(
        [tool, "--format=custom", "--no-owner", f"--file={dest}", f"--dbname={target}"], env
    )
    if code != 0:
        raise _tool_failed("pg_dump", code, err)


async def _pg_dump_revision(path: Path) -> str | None:
    """The schema version inside a custom-format dump: its alembic_version row."""
    tool = _pg_tool("pg_restore")
    code, out, err = await _run(
        [tool, "--data-only", "--table=alembic_version", "--file=-", str(path)], dict(os.environ)
    )
    if code != 0:
        raise _tool_failed("pg_restore", code, err)
    lines = out.decode(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return None if value == "\\." else value
    return None


# --- rotation -------------------------------------------------------------------------


def to_keep(names: Iterable[str], *, daily: int, weekly: int) -> set[str]:
    """Of these file names, the snapshots rotation keeps: the newest of each of the
    `daily` latest days that have one, and the newest of each of the `weekly` latest
    weeks (Monday to Sunday, so a daily backup's Sunday one). Other names are not
    snapshots and are not considered (so never removed)."""
    dated = sorted(
        ((stamp, name) for name in names if (stamp := taken_at(name)) is not None),
        reverse=True,
    )
    keep: set[str] = set()
    days: set[dt.date] = set()
    weeks: set[tuple[int, int]] = set()
    for stamp, name in dated:
        day = stamp.date()
        week = tuple(day.isocalendar())[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(name)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)  # type: ignore[arg-type]
            keep.add(name)
    return keep


def rotate(directory: Path, *, daily: int, weekly: int) -> list[Path]:
    """Remove the snapshots in `directory` that rotation does not keep; return them."""
    names = [p.name for p in Path(directory).iterdir() if p.is_file()]
    keep = to_keep(names, daily=daily, weekly=weekly)
    removed = []
    for name in sorted(names):
        if taken_at(name) is not None and name not in keep:
            (Path(directory) / name).unlink(missing_ok=True)
            removed.append(Path(directory) / name)
    return removed


def newest(directory: Path) -> Path | None:
    """The newest snapshot in `directory`, by the time in its name."""
    try:
        names = [p.name for p in Path(directory).iterdir() if p.is_file()]
    except OSError:
        return None
    dated = sorted((s, n) for n in names if (s := taken_at(n)) is not None)
    return Path(directory) / dated[-1][1] if dated else None


# --- restore --------------------------------------------------------------------------


def known_revisions() -> dict[str, str | None]:
    """revision → the one before it, for every migration this code has."""
    known: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if found is not None:
            known[found.group(1)] = down.group(2) if down is not None else None
    return known


def code_head() -> str | None:
    known = known_revisions()
    heads = set(known) - {down for down in known.values() if down}
    return min(heads) if len(heads) == 1 else None


def kind_of(path: Path) -> str:
    """SQLITE or POSTGRES, by what the file holds (not by its name)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise SnapshotError(f"{path} does not exist") from None
    except OSError as error:
        raise SnapshotError(f"{path} cannot be read ({error.strerror})") from None
    if head.startswith(_SQLITE_MAGIC):
        return SQLITE
    if head.startswith(_PG_MAGIC):
        return POSTGRES
    raise SnapshotError(
        f"{path} is not a Jamaah snapshot (neither a SQLite file nor a pg_dump custom-format "
        "file); give a file that `jamaah backup` wrote"
    )


async def snapshot_revision(path: Path) -> str | None:
    if kind_of(path) == SQLITE:
        return await asyncio.to_thread(_sqlite_revision, path)
    return await _pg_dump_revision(path)


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """table → rows, for the tables that hold what people did (not the schema version)."""

    def count(connection: Connection) -> dict[str, int]:
        names = sorted(set(inspect(connection).get_table_names()) - NOT_DATA)
        return {
            name: int(
                connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            )
            for name in names
        }

    async with engine.begin() as conn:
        return await conn.run_sync(count)


def describe(counts: dict[str, int]) -> str:
    """'3 cohorts, 40 people, 812 outbox' for the tables that hold rows."""
    shown = [f"{n} {name}" for name, n in counts.items() if n]
    return ", ".join(shown) if shown else "no rows"


async def restore(engine: AsyncEngine, source: Path, *, force: bool = False) -> Restored:
    """Fill the database from the snapshot at `source`, then migrate it up.

    The bot must not run on the database meanwhile (it would write into what is being
    replaced): stop it first.
    """
    source = Path(source)
    backend = backend_of(engine)
    kind = kind_of(source)
    if kind != backend:
        raise SnapshotError(
            f"{source} is a {_label(kind)} snapshot, but the database is {_label(backend)}; "
            f"restore it into a {_label(kind)} database"
        )
    revision = await snapshot_revision(source)
    if revision is None:
        raise SnapshotError(f"{source} holds no Jamaah schema version: it is not a Jamaah backup")
    known = known_revisions()
    head = code_head()
    if revision not in known:
        raise SnapshotError(
            f"{source} was made by a newer Jamaah (schema {revision}; this one knows up to "
            f"{head}): install the newer version first, or restore an older snapshot"
        )
    before = await row_counts(engine)
    held = sum(before.values())
    if held and not force:
        raise RestoreRefused(
            f"the database already holds data ({describe(before)}), and a restore would "
            "replace it. If that is what you mean: stop the bot, back this database up "
            "too (jamaah backup), then restore again with --force"
        )
    if backend == SQLITE:
        path = Path(engine.url.database or "")
        await engine.dispose()  # no pooled connection of ours holds the old pages
        await asyncio.to_thread(_sqlite_restore, source, path)
    else:
        await _pg_clear(engine)
        await _pg_restore(engine.url, source)
    await engine.dispose()
    async with engine.begin() as conn:
        released = await outbox.release_claims(conn)
    await upgrade(engine)
    after = await row_counts(engine)
    return Restored(revision, head, held, after, released)


def _label(kind: str) -> str:
    return "SQLite" if kind == SQLITE else "PostgreSQL"


def _sqlite_restore(source: Path, target: Path) -> None:
    """Copy every page of the snapshot into the target with SQLite's backup API (the
    target's old content goes, in one transaction)."""
    if not str(target) or str(target) == ":memory:":
        raise SnapshotError("cannot restore into an in-memory database")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as error:
        raise SnapshotError(f"SQLite could not restore {source} ({error})") from None
    finally:
        dst.close()
        src.close()


async def _pg_clear(engine: AsyncEngine) -> None:
    """Drop the (empty, or forced) database's tables, so the dump's schema takes their place."""

    def drop(connection: Connection) -> None:
        for name in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))

    async with engine.begin() as conn:
        await conn.run_sync(drop)


async def _pg_restore(url: URL, source: Path) -> None:
    tool = _pg_tool("pg_restore")
    target, env = _libpq(make_url(url))
    code, _out, err = await _run(
        [tool, "--no-owner", "--exit-on-error", f"--dbname={target}", str(source)], env
    )
    if code != 0:
        raise _tool_failed("pg_restore", code, err)


__all__ = [
    "NAME",
    "POSTGRES",
    "SQLITE",
    "RestoreRefused",
    "Restored",
    "Snapshot",
    "SnapshotError",
    "backup",
    "code_head",
    "describe",
    "file_name",
    "known_revisions",
    "newest",
    "restore",
    "rotate",
    "row_counts",
    "taken_at",
    "to_keep",
]
