"""Request bodies refused before they are read: every POST route (Telegram's webhook,
Twilio's inbound and status webhooks) answers 413 to a Content-Length over its limit
without taking a byte, and reads a body sent without one (chunked) no further than the
chunk that passes the limit. The bodies here count what the route took of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot

from bot.channels import telegram, whatsapp
from bot.core.bodies import read_limited
from bot.core.channel import Host

CHUNK = 16 * 1024
HUGE = 64 * 1024 * 1024  # what an attacker posts
SECRET = "s3cret_webhook-token"


class Counted:
    """A body of `size` bytes, sent in chunks; `taken` is how much the server asked for."""

    def __init__(self, size: int) -> None:
        self.size, self.taken = size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.taken < self.size:
            self.taken += CHUNK
            yield b"x" * CHUNK


def web_app() -> Starlette:
    """The three webhook routes as `jamaah run` mounts them; nothing behind them is
    reached by a body that is refused (no database, no Bot API)."""
    host = cast(Host, None)
    wa_channel = whatsapp.WhatsAppChannel(
        account_sid="AC1", auth_token="token", sender="+14155238886"
    )
    tg_channel = telegram.TelegramChannel(Bot("123456:TEST-token"))
    receiver = telegram.Receiver(host, tg_channel)
    return Starlette(
        routes=[
            *whatsapp.WhatsAppWeb(host, wa_channel).routes(),
            receiver.webhook_route(SECRET),
        ]
    )


ROUTES = [
    (whatsapp.INBOUND_PATH, whatsapp.MAX_FORM_BYTES, {}),
    (whatsapp.STATUS_PATH, whatsapp.MAX_FORM_BYTES, {}),
    (telegram.WEBHOOK_PATH, telegram.MAX_UPDATE_BYTES, {telegram.SECRET_HEADER: SECRET}),
]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        yield http


@pytest.mark.parametrize(("path", "limit", "headers"), ROUTES)
async def test_a_declared_length_over_the_limit_is_refused_unread(
    client: httpx.AsyncClient, path: str, limit: int, headers: dict[str, str]
) -> None:
    body = Counted(HUGE)
    response = await client.post(
        path, content=body, headers={**headers, "Content-Length": str(HUGE)}
    )
    assert response.status_code == 413
    assert body.taken == 0


@pytest.mark.parametrize(("path", "limit", "headers"), ROUTES)
async def test_a_chunked_body_is_read_only_past_its_limit(
    client: httpx.AsyncClient, path: str, limit: int, headers: dict[str, str]
) -> None:
    body = Counted(HUGE)
    response = await client.post(path, content=body, headers=headers)  # no Content-Length
    assert response.status_code == 413
    assert limit < body.taken <= limit + CHUNK  # the chunk that passed it, no further


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        (whatsapp.INBOUND_PATH, {}, 403),  # read, then refused for its missing signature
        (whatsapp.STATUS_PATH, {}, 403),
        (telegram.WEBHOOK_PATH, {telegram.SECRET_HEADER: SECRET}, 400),  # read: not JSON
    ],
)
async def test_a_body_within_the_limit_is_read_as_before(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], status: int
) -> None:
    body = Counted(4 * CHUNK)
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == status
    assert body.taken == 4 * CHUNK


async def test_the_telegram_secret_is_checked_before_the_body() -> None:
    body = Counted(HUGE)
    transport = httpx.ASGITransport(app=web_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        response = await http.post(telegram.WEBHOOK_PATH, content=body)
    assert response.status_code == 403 and body.taken == 0


async def test_read_limited_returns_the_whole_body_up_to_the_limit() -> None:
    async def echo(request: Request) -> Response:
        return Response(await read_limited(request, 10))

    app = Starlette(routes=[Route("/", echo, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.post("/", content=b"0123456789")).content == b"0123456789"
        assert (await http.post("/", content=b"0123456789A")).status_code == 413
        bad: Any = {"Content-Length": "lots"}
        assert (await http.post("/", content=b"", headers=bad)).status_code == 400
