"""Two worker processes on one PostgreSQL database run the same tick at the same moment:
each due cohort is handled by one of them, so every unlock goes out once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from storage.models import Outbox
from tests.support.scheduling import cohort, participant

ROOT = Path(__file__).resolve().parents[3]
UNLOCK = dt.datetime(2027, 1, 11, 0, 1, tzinfo=dt.UTC)  # week 2 opened a minute ago
COHORTS, EACH = 24, 5


async def test_two_workers_share_a_tick_and_send_each_unlock_once(
    app: App, db_url: str, tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers are a PostgreSQL deployment")
    for c in range(COHORTS):
        cohort_id = await cohort(app, code=f"W-{c:02d}", facilitator=None)
        for p in range(EACH):
            await participant(app, cohort_id, f"w{c}-{p}")
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.tick_child", db_url, UNLOCK.isoformat(), str(go)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    import time

    time.sleep(4)  # both have started and wait for the signal
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    expected = COHORTS * EACH
    assert sum(r["sent"].get("unlock", 0) for r in results) == expected  # no work twice
    assert sum(r["cohorts"] for r in results) == COHORTS  # each cohort read by one worker
    async with app.db.connect() as conn:
        unlocks = (
            await conn.execute(
                select(func.count()).select_from(Outbox).where(Outbox.kind == "unlock")
            )
        ).scalar_one()
    assert unlocks == expected
