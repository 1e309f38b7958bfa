"""Inbound throughput: messages per second through the whole path, and latency.

Parse (console adapter) → dispatcher (dedupe, identity, router) → engine → one commit
with state, answers, progress and outbox rows. N console participants (default 1,000)
join their cohort and answer all of week 1, interleaved one message each in turn, the
way a real evening's traffic arrives. Sending is not timed (the outbox is the end of
the path). Runs on SQLite, and on PostgreSQL when a URL is given or
JAMAAH_TEST_POSTGRES_URL is set.

    .venv/bin/python bench/inbound.py [--participants 1000] [--backend sqlite|postgres|both]
        [--metrics on|off|both]

`--metrics` runs with the /metrics counters on (the default, as `jamaah run` does), off,
or both (off, then on, on each backend; the figures of the "on" run are suffixed
`_metrics` and the loss is given as `<backend>_metrics_loss_pct`).

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.app import load_checked_content, open_app
from bot.core.clock import SimulatedClock
from storage import repo
from storage.models import Answer, Outbox, Progress

WEEK1 = [
    "lanjut",
    "lanjut",
    "lanjut",
    "lanjut",
    "ya",
    "Kamis",
    "sore",
    "5rb",
    "19",
    "2",
    "memasak kue dan jualan di pasar",
    "4",
    "2",
    "3",
    "5",
    "4",
    "Jamaah kami menjual 100 bungkus keripik per bulan",
    "pernah",
]
START = dt.datetime(2027, 1, 4, 12, 0, tzinfo=dt.UTC)


def script(code: str, n: int) -> list[str]:
    return [f"/mulai {code}", "ya", f"Peserta {n}", "Tritis", *WEEK1]


async def run(url: str, participants: int, label: str, metrics: bool = True) -> dict[str, float]:
    content = load_checked_content()
    app = await open_app(
        url, clock=SimulatedClock(START), out=io.StringIO(), content=content, metrics=metrics
    )
    try:
        cohorts = (participants + 24) // 25
        codes = []
        async with app.db.begin() as conn:
            for c in range(cohorts):
                code = f"B{c:04d}"
                await repo.create_cohort(
                    conn,
                    code=code,
                    name=f"Jamaah {c}",
                    region="bench/region",
                    start_date=START.date(),
                    timezone="Asia/Jakarta",
                    capacity=25,
                    language="id",
                    join_code=f"J{c:05d}",
                    now=START,
                )
                codes.append(f"J{c:05d}")
        scripts = [script(codes[i // 25], i) for i in range(participants)]
        total = sum(len(s) for s in scripts)
        latencies: list[float] = []
        handled = 0
        began = time.perf_counter()
        for turn in range(max(len(s) for s in scripts)):
            for i, lines in enumerate(scripts):
                if turn >= len(lines):
                    continue
                t0 = time.perf_counter()
                message = app.console.parse((f"p{i}", lines[turn]))
                outcome = await app.dispatcher.handle(message)
                latencies.append(time.perf_counter() - t0)
                if outcome.failed or outcome.replies == 0:
                    raise SystemExit(f"message {lines[turn]!r} of p{i} was not answered")
                handled += 1
            print(f"  {label}: {handled}/{total} messages", file=sys.stderr, flush=True)
        elapsed = time.perf_counter() - began
        async with app.db.connect() as conn:
            done = (
                await conn.execute(
                    select(func.count()).select_from(Progress).where(Progress.status == "done")
                )
            ).scalar_one()
            answers = (await conn.execute(select(func.count()).select_from(Answer))).scalar_one()
            queued = (await conn.execute(select(func.count()).select_from(Outbox))).scalar_one()
        if done != participants:
            raise SystemExit(f"only {done} of {participants} finished week 1")
        if app.metrics is not None:  # the counters saw every message
            await app.metrics.refresh(app.db, app.clock.now())
            counted = app.metrics.inbound.labels("console")._value.get()
            if counted != handled:
                raise SystemExit(f"metrics counted {counted} of {handled} messages")
        latencies.sort()
        return {
            f"{label}_msgs_per_s": round(handled / elapsed, 1),
            f"{label}_p50_ms": round(statistics.median(latencies) * 1000, 2),
            f"{label}_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
            f"{label}_messages": handled,
            f"{label}_answers_saved": answers,
            f"{label}_outbox_rows": queued,
        }
    finally:
        await app.close()


async def admin(base: str, sql: str) -> None:
    """Run one statement on the server's maintenance connection (CREATE/DROP DATABASE)."""
    import asyncpg

    url = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def sqlite_db() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite+aiosqlite:///{tmp}/bench.db"


@asynccontextmanager
async def postgres_db(base: str) -> AsyncIterator[str]:
    name = f"jamaah_bench_{secrets.token_hex(4)}"
    await admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def measure(
    backend: str,
    database: Callable[[], AbstractAsyncContextManager[str]],
    participants: int,
    metrics: str,
) -> dict[str, float]:
    """One run per metrics mode, each on a fresh database; with both, the loss too."""
    figures: dict[str, float] = {}
    for on in {"on": [True], "off": [False], "both": [False, True]}[metrics]:
        label = f"{backend}_metrics" if on and metrics == "both" else backend
        async with database() as url:
            figures.update(await run(url, participants, label, metrics=on))
    if metrics == "both":
        off, with_metrics = (
            figures[f"{backend}_msgs_per_s"],
            figures[f"{backend}_metrics_msgs_per_s"],
        )
        figures[f"{backend}_metrics_loss_pct"] = round((off - with_metrics) / off * 100, 1)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("JAMAAH_TEST_POSTGRES_URL"),
        help="a PostgreSQL server to make a scratch database on",
    )
    parser.add_argument(
        "--metrics",
        choices=("on", "off", "both"),
        default="on",
        help="count for /metrics (on, as `jamaah run` does), not, or both one after the other",
    )
    args = parser.parse_args()
    figures: dict[str, float | str | None] = {
        "participants": args.participants,
        "metrics": args.metrics,
    }
    if args.backend in ("sqlite", "both"):
        figures.update(await measure("sqlite", sqlite_db, args.participants, args.metrics))
    if args.backend in ("postgres", "both"):
        if args.postgres_url:
            base = args.postgres_url
            figures.update(
                await measure(
                    "postgres", lambda: postgres_db(base), args.participants, args.metrics
                )
            )
        else:
            print(
                "  postgres: skipped (no --postgres-url or JAMAAH_TEST_POSTGRES_URL)",
                file=sys.stderr,
            )
            figures.update(postgres_msgs_per_s=None, postgres_p99_ms=None)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
