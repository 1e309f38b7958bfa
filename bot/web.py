"""The one Starlette app: Telegram's webhook, Twilio's webhooks, documents, /healthz,
/metrics (Prometheus's text format, bot/core/metrics.py).

Documents are served at /files/<token> (a `documents` row, while not expired).

Each channel adds its own routes (see `bot/serve.py`); this module only puts them
together with the routes every deployment has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import App
from bot.core.health import Health
from bot.core.metrics import CONTENT_TYPE
from storage import repo


def build_web(
    app: App, routes: Sequence[BaseRoute] = (), health: Health | None = None
) -> Starlette:
    async def healthz(request: Request) -> Response:
        """200 when the database answers and every channel hears; 503 otherwise."""
        dead = health.dead_channels() if health is not None else []
        if dead:  # its receiving task died (restarting) or stopped
            return JSONResponse(
                {"ok": False, "error": "channel not receiving", "dead_channels": dead},
                status_code=503,
            )
        # begin(), not connect(): on SQLite any transaction holds the write lock (BEGIN
        # IMMEDIATE), and a connect() block ends (rolls back) in a task of its own, so the
        # loop first runs other tasks, whose BEGIN then blocks the loop on that lock.
        try:
            async with app.db.begin() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as error:  # the database is down: say so, do not crash
            return JSONResponse({"ok": False, "error": type(error).__name__}, status_code=503)
        return JSONResponse({"ok": True, "channels": app.channels.names()})

    async def files(request: Request) -> Response:
        """A document by its unguessable token while it has not expired (WhatsApp fetches
        media by URL: the business-plan PDF). 404 otherwise, saying nothing more."""
        token = request.path_params["token"]
        if not TOKEN.match(token):
            return Response("not found", status_code=404)
        async with app.db.begin() as conn:  # begin(), not connect(): see healthz
            doc = await repo.document_by_token(conn, token=token, now=app.clock.now())
        if doc is None or doc.data is None:
            return Response("not found", status_code=404)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", doc.filename) or "file"
        return Response(
            doc.data,
            media_type=doc.content_type,
            headers={
                "Content-Disposition": f'inline; filename="{name}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def metrics(request: Request) -> Response:
        """The counters and the queue as Prometheus reads them; 503 (with what to do) when
        the database does not answer, 404 when this application counts nothing."""
        if app.metrics is None:
            return Response("not found", status_code=404)
        try:
            await app.metrics.refresh(app.db, app.clock.now())
        except Exception as error:  # a scrape must not take the bot down
            return PlainTextResponse(
                f"the database did not answer ({type(error).__name__}): see /healthz and"
                " the bot's log\n",
                status_code=503,
            )
        return Response(app.metrics.render(), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/files/{token}", files, methods=["GET", "HEAD"]),
            *routes,
        ]
    )


TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
