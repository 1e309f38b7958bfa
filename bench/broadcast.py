"""A 3,000-recipient broadcast through the outbox and the sender to a Telegram-like fake
that enforces 30 messages/s overall and 1 message/s per chat with 429 replies.

    .venv/bin/python bench/broadcast.py [--recipients 3000] [--db URL]

Target (issue 4): at least 97% of the limit sustained (rate_ratio >= 0.97), no 429,
nothing lost, no duplicate. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from telegram_load import Load, emit, run_ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    print(f"broadcast to {args.recipients} chats at Telegram's limits…", file=sys.stderr)
    figures = asyncio.run(run_ours(Load(recipients=args.recipients), args.db))
    emit(figures)


if __name__ == "__main__":
    main()
