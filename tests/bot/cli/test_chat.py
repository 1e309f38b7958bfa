"""`jamaah chat` stopped in the middle of sending: the next chat on the same database
answers at once, and nothing is lost or sent twice beyond the one message in flight.

The first chat's output goes to a pipe nobody reads: once the pipe is full, the console
channel's write blocks inside a send, with that reply claimed ('sending'). The process is
killed there, as a closed terminal or a crash would leave it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from storage.db import make_engine, upgrade
from storage.models import Outbox

ROOT = Path(__file__).resolve().parents[3]
JAMAAH = [sys.executable, "-m", "bot.cli"]
HEADER = "→ siti: "  # how the console begins each message to siti


def chat(url: str, script: Path, **popen: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JAMAAH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [*JAMAAH, "chat", "--script", str(script)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
        **popen,
    )


async def outbox_statuses(url: str) -> dict[str, int]:
    db = make_engine(url)
    try:
        async with db.connect() as conn:
            rows = await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
            return {status: int(n) for status, n in rows.all()}
    finally:
        await db.dispose()


async def test_a_chat_killed_while_sending_leaves_the_next_chat_answering_at_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/chat.db"
    db = make_engine(url)
    await upgrade(db)
    await db.dispose()
    many = tmp_path / "many.txt"
    many.write_text("siti: /bantuan\n" * 400, encoding="utf-8")  # far more than a pipe holds
    first = chat(url, many, stdout=subprocess.PIPE)
    try:
        for _ in range(600):  # until its write blocks on the full pipe, a reply claimed
            statuses = await outbox_statuses(url)
            if statuses.get("sending") == 1:
                await asyncio.sleep(0.5)
                if await outbox_statuses(url) == statuses:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the first chat never blocked while sending")
    finally:
        first.send_signal(signal.SIGKILL)
        assert first.stdout is not None
        first_out = first.stdout.read().decode("utf-8", "replace")
        first.wait()
    left = await outbox_statuses(url)
    assert left.get("sending") == 1  # the one in flight when it died

    again = tmp_path / "again.txt"
    again.write_text("siti: /bantuan\n", encoding="utf-8")
    second = chat(url, again, stdout=subprocess.PIPE)
    second_out = second.communicate(timeout=120)[0].decode("utf-8")
    assert second.returncode == 0

    # Answered at once: the reply in flight goes again, then the answer to this /bantuan.
    answers = [block for block in second_out.split(HEADER) if block.strip()]
    assert answers and answers[-1] in first_out.split(HEADER)[1:-1]  # the same help again
    # Nothing waits and nothing is lost; at most the message in flight went twice.
    done = await outbox_statuses(url)
    assert set(done) == {"sent"}
    delivered = first_out.count(HEADER) + second_out.count(HEADER)
    assert done["sent"] <= delivered <= done["sent"] + 1
