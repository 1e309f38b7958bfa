"""A worker process for the two-worker tick test: waits for the go signal, runs one tick.

    python -m tests.support.tick_child DATABASE_URL ISO_TIME GO_FILE

Prints the tick's figures as JSON on its last line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import sys
from pathlib import Path

from bot.app import open_app
from bot.core.clock import SimulatedClock


async def main(url: str, when: str, go: str) -> None:
    app = await open_app(
        url, clock=SimulatedClock(dt.datetime.fromisoformat(when)), out=io.StringIO()
    )
    app.scheduler.chunk = 3  # small chunks, so that the two workers interleave
    try:
        while not Path(go).exists():
            await asyncio.sleep(0.005)
        stats = await app.scheduler.tick()
        print(json.dumps({"cohorts": stats.cohorts, "sent": dict(stats.sent)}))
    finally:
        await app.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
