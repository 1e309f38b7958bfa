"""The daily retention run over a large database: how long, and its longest transaction.

The database is `nudge_tick.py`'s (100,000 participants in 4,000 cohorts of 25, built by
its `seed`), with half a year of what a busy bot leaves behind, spread evenly in time
(ids in time order, as the bot writes them) over the 180 days before the run:

- 1,000,000 inbound dedupe entries over the last 60 days (about 883,000 older than 7);
- 1,000,000 outbox rows (about 500,000 older than 90 days), all finished: sent (90%,
  delivery reports on half), failed, skipped; 1 in 10 belongs to one of 200 broadcasts;
- 1,000,000 nudge records: 250,000 cohort-wide (unlock, meeting, digest; about half
  older than 90 days) and 750,000 participants' own (reminders, alerts: kept);
- 100,000 audit entries over three years (about a third older than two);
- 24,000 documents of 4 KB: 10,000 published and expired, 10,000 received photos
  (kept unpublished), 4,000 still valid.

The run is `storage.retention.run` at 03:00 WIB, as the daily job runs it, with the
default periods: the first run catches up on everything; a second, the next day, is
what a run costs once it is in step. Each transaction is timed from BEGIN to COMMIT;
the figure that matters is the longest that touched the outbox (on SQLite every
transaction holds the one write lock, so there the longest of all). The broadcasts'
status counts are compared before and after.

    .venv/bin/python bench/retention.py [--backend sqlite|postgres|both] [--batch N]

Target (issue 15): no transaction on the outbox longer than 100 ms. The last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bench import nudge_tick  # noqa: E402
from storage import broadcast_repo, retention  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.tables import (  # noqa: E402
    audit_t,
    broadcasts_t,
    documents_t,
    inbound_t,
    nudges_t,
    outbox_t,
)

RUN_AT = dt.datetime(2027, 6, 30, 20, 0, tzinfo=dt.UTC)  # 1 July, 03:00 WIB
SPAN = dt.timedelta(days=180)
INBOUND, OUTBOX, COHORT_NUDGES, OWN_NUDGES, AUDIT = 1_000_000, 1_000_000, 250_000, 750_000, 100_000
EXPIRED_DOCS, PHOTOS, VALID_DOCS, DOC_BYTES = 10_000, 10_000, 4_000, 4096
BROADCASTS = 200
PARTICIPANTS = nudge_tick.COHORTS * (nudge_tick.SIZE + 1)  # people ids 1.. (staff too)
CHUNK = 5000


def _at(i: int, n: int, span: dt.timedelta) -> dt.datetime:
    """The i-th of n moments spread evenly over `span` up to RUN_AT (oldest first)."""
    return RUN_AT - span + span * (i / n)


async def _insert(engine: AsyncEngine, table: Any, rows: Any) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            async with engine.begin() as conn:
                await conn.execute(insert(table), batch)
            batch = []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(insert(table), batch)


async def add_old_rows(url: str, rng: random.Random) -> dict[str, int]:
    engine = make_engine(url)
    try:
        await _insert(
            engine,
            inbound_t,
            (
                {
                    "channel": "whatsapp",
                    "external_id": f"SM{i:030d}",
                    "received_at": _at(i, INBOUND, dt.timedelta(days=60)),
                }
                for i in range(INBOUND)
            ),
        )
        await _insert(
            engine,
            broadcasts_t,
            (
                {
                    "id": b + 1,
                    "author_id": (b % nudge_tick.COHORTS) * (nudge_tick.SIZE + 1) + 1,
                    "cohort_ids": [b % nudge_tick.COHORTS + 1],
                    "audience": "all",
                    "text": "Pertemuan minggu ini pindah ke balai desa, jam 16.00.",
                    "status": "queued",
                    "recipients": 0,
                    "confirm_key": f"bench-{b}",
                    "created_at": _at(b, BROADCASTS, SPAN),
                    "queued_at": _at(b, BROADCASTS, SPAN),
                }
                for b in range(BROADCASTS)
            ),
        )

        def outbox_row(i: int) -> dict[str, Any]:
            at = _at(i, OUTBOX, SPAN)
            roll = rng.random()
            status = "sent" if roll < 0.9 else ("failed" if roll < 0.95 else "skipped")
            broadcast = i % 10 == 0
            return {
                "contact_id": rng.randint(1, PARTICIPANTS),
                "payload": {
                    "render": "nudges.reminder_first",
                    "locale": "id",
                    "params": {
                        "name": f"Peserta {i}",
                        "cohort_name": "Jamaah Tritis",
                        "facilitator": "Bu Ani",
                        "goal": {"id": "Punya warung kopi sendiri di desa"},
                        "week": 5,
                        "title": "Menghitung modal dan harga jual",
                    },
                    "kind": "broadcast" if broadcast else "reminder",
                },
                "priority": 2 if broadcast else 1,
                "status": status,
                "attempts": 1,
                "next_attempt_at": at,
                "created_at": at,
                "sent_at": at if status == "sent" else None,
                "kind": "broadcast" if broadcast else "reminder",
                "delivery_status": "delivered" if status == "sent" and roll < 0.45 else None,
                "dedupe_key": f"bench:{i}",
                "broadcast_id": (i // 10) % BROADCASTS + 1 if broadcast else None,
                "error": "gave up after 5: 503" if status == "failed" else None,
            }

        await _insert(engine, outbox_t, (outbox_row(i) for i in range(OUTBOX)))
        kinds = ("unlock", "meeting", "digest")
        everyone = COHORT_NUDGES + OWN_NUDGES

        def nudge_row(i: int) -> dict[str, Any]:
            at = _at(i, everyone, SPAN)
            if i % 4 == 0:  # one in four: the cohort-wide events
                cohort = (i // 4) % nudge_tick.COHORTS + 1
                kind = kinds[(i // 4) % 3]
                return {"key": f"{kind}:C{cohort:05d}:bench{i}", "person_id": None,
                        "cohort_id": cohort, "kind": kind, "week": 1, "due_at": at,
                        "created_at": at, "status": "queued"}  # fmt: skip
            person = rng.randint(1, PARTICIPANTS)
            return {"key": f"reminder1:w{i}:p{person}", "person_id": person,
                    "cohort_id": (person - 1) // (nudge_tick.SIZE + 1) + 1, "kind": "reminder",
                    "week": 1, "due_at": at, "created_at": at, "status": "queued"}  # fmt: skip

        await _insert(engine, nudges_t, (nudge_row(i) for i in range(everyone)))
        await _insert(
            engine,
            audit_t,
            (
                {
                    "actor": f"person:{rng.randint(1, PARTICIPANTS)}",
                    "action": "checkin",
                    "target": f"cohort:{rng.randint(1, nudge_tick.COHORTS)}",
                    "details": {"kind": "meeting"},
                    "at": _at(i, AUDIT, dt.timedelta(days=3 * 365)),
                }
                for i in range(AUDIT)
            ),
        )
        data = secrets.token_bytes(DOC_BYTES)
        documents = EXPIRED_DOCS + PHOTOS + VALID_DOCS

        def document(i: int) -> dict[str, Any]:
            made = _at(i, documents, SPAN)
            kind = i % 12  # 5 in 12 published and expired, 5 received photos, 2 valid
            if kind < 5:  # a week's link, gone by now
                expires = min(made + dt.timedelta(days=7), RUN_AT - dt.timedelta(minutes=1))
            elif kind < 10:  # kept unpublished
                expires = made
            else:
                expires = RUN_AT + dt.timedelta(days=7)
            return {
                "token": secrets.token_urlsafe(24),
                "person_id": rng.randint(1, PARTICIPANTS),
                "filename": "rencana-usaha.pdf" if kind < 5 else "photo.jpg",
                "content_type": "application/pdf" if kind < 5 else "image/jpeg",
                "data": data,
                "created_at": made,
                "expires_at": expires,
            }

        await _insert(engine, documents_t, (document(i) for i in range(documents)))
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return {
        "inbound_log": INBOUND,
        "outbox": OUTBOX,
        "nudges_cohort": COHORT_NUDGES,
        "nudges_own": OWN_NUDGES,
        "audit_log": AUDIT,
        "documents": documents,
    }


async def _outcomes(engine: AsyncEngine) -> dict[int, dict[str, int]]:
    async with engine.begin() as conn:
        return await broadcast_repo.outcomes(conn, broadcast_ids=list(range(1, BROADCASTS + 1)))


def _figures(report: retention.Report) -> dict[str, Any]:
    outbox = report.steps["outbox_text"].durations
    return {
        "total_s": round(report.seconds, 2),
        "pruned": report.counts(),
        "transactions": sum(s.batches for s in report.steps.values()),
        "longest_ms": round(report.longest_s * 1000, 1),
        "longest_outbox_ms": round(report.longest_outbox_s * 1000, 1),
        "outbox_p50_ms": round(statistics.median(outbox) * 1000, 2) if outbox else 0.0,
        "outbox_p99_ms": round(sorted(outbox)[int(len(outbox) * 0.99)] * 1000, 2)
        if outbox
        else 0.0,
        "over_100ms": sum(1 for s in report.steps.values() for d in s.durations if d > 0.1),
        "steps": {
            name: {
                "rows": s.rows,
                "transactions": s.batches,
                "seconds": round(s.seconds, 2),
                "longest_ms": round(s.longest_s * 1000, 1),
                "over_100ms": sum(1 for d in s.durations if d > 0.1),
            }
            for name, s in report.steps.items()
        },
    }


async def measure(url: str, batch: int) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            sizes = {
                t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
                for t in (inbound_t, outbox_t, nudges_t, audit_t, documents_t)
            }
        before = await _outcomes(engine)
        first = await retention.run(engine, RUN_AT, retention.Periods(), batch=batch)
        after = await _outcomes(engine)
        second = await retention.run(
            engine, RUN_AT + dt.timedelta(days=1), retention.Periods(), batch=batch
        )
        return {
            "rows_before": sizes,
            "first": _figures(first),
            "next_day": _figures(second),
            "broadcast_counts_unchanged": before == after,
        }
    finally:
        await engine.dispose()


async def _admin(sql: str, pg_url: str) -> None:
    import asyncpg

    url = make_url(pg_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_backend(backend: str, batch: int) -> dict[str, Any]:
    rng = random.Random(15)
    pg_url = os.environ.get("JAMAAH_TEST_POSTGRES_URL")
    name, folder = "", ""
    if backend == "sqlite":
        folder = tempfile.mkdtemp()
        url = f"sqlite+aiosqlite:///{folder}/retention.db"
    else:
        if not pg_url:
            raise SystemExit("set JAMAAH_TEST_POSTGRES_URL for the PostgreSQL leg")
        name = f"jamaah_bench_{secrets.token_hex(4)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"', pg_url))
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        began = time.perf_counter()
        counts = asyncio.run(nudge_tick.seed(url, False, rng))
        counts.update(asyncio.run(add_old_rows(url, rng)))
        print(f"{backend}: seeded {counts} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        result = asyncio.run(measure(url, batch))
        result["seeded"] = counts
        print(f"{backend}: {json.dumps(result)}", file=sys.stderr)
        return result
    finally:
        if name and pg_url:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', pg_url))
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--batch", type=int, default=retention.BATCH, help="rows a transaction")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and not os.environ.get("JAMAAH_TEST_POSTGRES_URL"):
        backends = ["sqlite"]
    results = {b: run_backend(b, args.batch) for b in backends}
    figures: dict[str, Any] = {"batch": args.batch}
    for backend, result in results.items():
        figures[f"{backend}_total_s"] = result["first"]["total_s"]
        figures[f"{backend}_longest_outbox_ms"] = result["first"]["longest_outbox_ms"]
        figures[f"{backend}_longest_ms"] = result["first"]["longest_ms"]
        figures[f"{backend}_next_day_s"] = result["next_day"]["total_s"]
        figures[f"{backend}_counts_unchanged"] = result["broadcast_counts_unchanged"]
    figures["details"] = results
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
