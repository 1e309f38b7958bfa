"""Replies while a broadcast drains: 100 participants each write 5 messages, 10–20 s apart,
while a 3,000-recipient broadcast goes out at Telegram's limits (30 messages/s overall,
1 message/s per chat, enforced by the fake Bot API server with 429s). The talkers are
among the broadcast's recipients; together they write about 7 messages a second, each
answered with one message. Latency: from the moment the message is handed to the
dispatcher to the moment the fake server accepts the reply.

Run twice on the same fake server: through our outbox and sender (replies in the first
lane), and through python-telegram-bot's AIORateLimiter with every message handed to PTB
at once (broadcast and replies sharing its limiter).

    .venv/bin/python bench/reply_latency.py [--recipients 3000] [--talkers 100]

Target (issue 4): p95 under 1 s for ours. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from telegram_load import Load, emit, run_ours, run_ptb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--talkers", type=int, default=100)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    load = dict(recipients=args.recipients, talkers=args.talkers)
    print("ours: outbox and sender…", file=sys.stderr)
    ours = asyncio.run(run_ours(Load(**load), args.db))
    print(f"ours: {ours}", file=sys.stderr)
    print("python-telegram-bot AIORateLimiter…", file=sys.stderr)
    ptb = asyncio.run(run_ptb(Load(**load), args.db))
    print(f"ptb: {ptb}", file=sys.stderr)
    emit(
        {
            "ours_p95_s": ours.get("p95_s"),
            "ptb_ratelimiter_p95_s": ptb.get("p95_s"),
            "ours_p50_s": ours.get("p50_s"),
            "ptb_ratelimiter_p50_s": ptb.get("p50_s"),
            "ours_http_429": ours["http_429"],
            "ptb_ratelimiter_http_429": ptb["http_429"],
            "ours_broadcast_seconds": ours["seconds"],
            "ptb_ratelimiter_broadcast_seconds": ptb["seconds"],
            "ours": ours,
            "ptb_ratelimiter": ptb,
        }
    )


if __name__ == "__main__":
    main()
