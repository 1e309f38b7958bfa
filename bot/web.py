"""The one Starlette app: Telegram's webhook, Twilio's webhooks, documents, /healthz.

Each channel adds its own routes (see `bot/runner.py`); this module only puts them
together with the routes every deployment has.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import App


def build_web(app: App, routes: Sequence[BaseRoute] = ()) -> Starlette:
    async def healthz(request: Request) -> Response:
        """200 when the database answers, 503 when it does not."""
        # begin(), not connect(): on SQLite any transaction holds the write lock (BEGIN
        # IMMEDIATE), and a connect() block ends (rolls back) in a task of its own, so the
        # loop first runs other tasks, whose BEGIN then blocks the loop on that lock.
        try:
            async with app.db.begin() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as error:  # the database is down: say so, do not crash
            return JSONResponse({"ok": False, "error": type(error).__name__}, status_code=503)
        return JSONResponse({"ok": True, "channels": app.channels.names()})

    return Starlette(routes=[Route("/healthz", healthz), *routes])
