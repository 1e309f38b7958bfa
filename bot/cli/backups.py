"""`jamaah backup [PATH]` and `jamaah restore PATH [--force]` (storage/snapshots.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.cli.common import database_url
from bot.core.clock import SystemClock
from bot.core.config import Settings
from storage import snapshots
from storage.db import make_engine


def backup_dir(settings: Settings) -> Path:
    """Where snapshots go by default: JAMAAH_BACKUP_DIR, else a folder in the data folder."""
    return settings.backup_dir or Path(settings.data_dir) / "backups"


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    url = database_url(args, settings)
    db = make_engine(url)
    try:
        backend = snapshots.backend_of(db)
        target = Path(args.path) if args.path else backup_dir(settings)
        if not args.path or target.is_dir() or args.path.endswith(("/", "\\")):
            target = target / snapshots.file_name(backend, SystemClock().now())
        try:
            snap = await snapshots.backup(db, target)
        except snapshots.SnapshotError as error:
            print(f"jamaah: the backup was not made: {error}.", file=sys.stderr)
            return 1
    finally:
        await db.dispose()
    print(
        f"Backup written: {snap.path} ({_size(snap.size)} in {snap.seconds:.1f} s, "
        f"schema {snap.revision or '?'})."
    )
    print(f"Restore it with: jamaah restore {snap.path}")
    return 0


async def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    url = database_url(args, settings)
    db = make_engine(url)
    try:
        try:
            done = await snapshots.restore(db, Path(args.path), force=args.force)
        except snapshots.RestoreRefused as error:
            print(f"jamaah: not restored: {error}.", file=sys.stderr)
            return 1
        except snapshots.SnapshotError as error:
            print(f"jamaah: the restore failed: {error}.", file=sys.stderr)
            return 1
    finally:
        await db.dispose()
    migrated = (
        f"schema {done.revision}, migrated up to {done.head}"
        if done.head and done.head != done.revision
        else f"schema {done.revision}"
    )
    print(f"Restored {args.path} into {_shown(url)} ({migrated}).")
    print(f"It holds: {snapshots.describe(done.rows)}.")
    if done.replaced_rows:
        print(f"What the database held before ({done.replaced_rows} rows) was replaced.")
    if done.released:
        print(
            f"{done.released} message(s) were being sent when the snapshot was taken; "
            "they go again when the bot starts."
        )
    print("Start the bot again with: jamaah run")
    return 0
