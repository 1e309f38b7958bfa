"""A sender killed with SIGKILL in the middle of a broadcast loses nothing on restart, and
sends again at most what was in flight when it died."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App
from storage import repo
from storage.models import Outbox

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 120


def _child(url: str, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_child", url, str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _lines(out: Path) -> list[str]:
    return out.read_text(encoding="utf-8").splitlines() if out.exists() else []


async def test_a_killed_sender_restarted_delivers_the_rest_with_bounded_duplicates(
    app: App, tmp_path: Path
) -> None:
    async with app.db.begin() as conn:
        rows = []
        for n in range(RECIPIENTS):
            _, contact_id = await repo.create_person(
                conn,
                channel="slow",
                address=f"chat{n:03d}",
                display_name=None,
                language="id",
                now=app.clock.now(),
            )
            rows.append(
                {
                    "contact_id": contact_id,
                    "payload": {"text": "Siaran: pertemuan pindah ke balai desa"},
                    "priority": repo.PRIORITY_BROADCAST,
                }
            )
        # The clock of the children is the system's; make everything due for it.
        await repo.enqueue(conn, rows=rows, now=app.clock.now().replace(year=2020))
    url = app.db.url.render_as_string(hide_password=False)
    out = tmp_path / "delivered.txt"

    first = _child(url, out)
    deadline = time.monotonic() + 60
    while len(_lines(out)) < 30 and time.monotonic() < deadline and first.poll() is None:
        await asyncio.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = len(_lines(out))
    assert 0 < before < RECIPIENTS, "the kill must land in the middle of the broadcast"
    async with app.db.connect() as conn:
        in_flight = (
            await conn.execute(
                select(func.count()).select_from(Outbox).where(Outbox.status == "sending")
            )
        ).scalar_one()

    second = _child(url, out)
    assert second.wait(timeout=120) == 0

    delivered = Counter(line.split("\t")[0] for line in _lines(out))
    assert set(delivered) == {f"chat{n:03d}" for n in range(RECIPIENTS)}  # nothing lost
    duplicates = sum(count - 1 for count in delivered.values())
    assert duplicates <= in_flight  # at most what was claimed and unmarked at the kill
    async with app.db.connect() as conn:
        statuses = (await conn.execute(select(Outbox.status))).scalars().all()
    assert set(statuses) == {"sent"}
