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
        try:  # begin(), not connect(): on SQLite a read holds the lock until it ends, and
            # connect() ends in a task of its own, after the loop ran other turns

            async with app.db.begin() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as error:  # the database is down: say so, do not crash
            return JSONResponse({"ok": False, "error": type(error).__name__}, status_code=503)
        return JSONResponse({"ok": True, "channels": app.channels.names()})

    return Starlette(routes=[Route("/healthz", healthz), *routes])
