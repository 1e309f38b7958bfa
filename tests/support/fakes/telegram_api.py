"""A fake Telegram Bot API server for the tests: real HTTP on 127.0.0.1, a random port.

It speaks the Bot API as python-telegram-bot uses it: `POST /bot<token>/<method>` with
form-encoded parameters (JSON-encoded where they are not strings), multipart when a
file is uploaded, or a JSON body; it answers `{"ok": true, "result": ...}` with
real-shaped Message, User and Chat objects, or `{"ok": false, "error_code": ...,
"description": ..., "parameters": {"retry_after": N}}`.

It simulates people (`FakeUser.say`, `press`, `send_photo`, ...): their updates are
queued for `getUpdates` (long polling with offset and timeout) or POSTed to the webhook
with its secret header once one is set. It records every call and what the bot sent,
can make chats blocked (403) or unknown (400 "chat not found"), script failures, and
enforce Telegram's limits (30 messages/s overall, 1/s per chat) with 429 replies. Like
Telegram, it refuses HTML text with a bare <, > or & (400 "can't parse entities").
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import re
import socket
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument"}
JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "link_preview_options",
    "entities",
    "caption_entities",
    "reply_parameters",
}
INT_FIELDS = {"offset", "limit", "timeout", "message_id", "max_connections"}
BOT_ID = 7000001


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class Sent:
    """A message the bot sent."""

    message_id: int
    chat_id: int
    method: str
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, callback_data)
    file: str | None = None  # a file id, URL or the uploaded file's name


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the test decides when it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_asgi(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    """Serve an ASGI app on 127.0.0.1 at a free port; returns (server, task, port)."""
    sock = _listen()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    return server, task, port


class FakeTelegram:
    def __init__(
        self,
        token: str = f"{BOT_ID}:TEST-token_abc",
        *,
        username: str = "JamaahTestBot",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token, self.username, self.clock = token, username, clock
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.updates: list[dict[str, Any]] = []  # waiting for getUpdates
        self.webhook: dict[str, Any] | None = None
        self.webhook_error: str | None = None  # getWebhookInfo's last_error_message
        self.blocked: set[int] = set()
        self.unknown: set[int] = set()
        self.failures: dict[int, deque[Failure]] = {}  # chat id -> the next sends' failures
        # method -> how its next calls fail: a Failure, or DROP (the connection is cut).
        self.outages: dict[str, deque[Failure | None]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.files: dict[str, bytes] = {}
        # A received file's troubles: getFile fails, the download answers a status or is
        # slow, getFile leaves out the size (which Telegram may do).
        self.get_file_failures: dict[str, Failure] = {}
        self.download_status: dict[str, int] = {}
        self.download_delay_s = 0.0
        self.unsized: set[str] = set()
        self.downloads: list[str] = []  # the file ids downloaded, in order
        self.enforce_limits = False
        self.per_chat_per_s, self.overall_per_s = 1.0, 30.0
        self._sends: deque[tuple[float, int]] = deque()  # (time, chat) of accepted sends
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(100_001)
        self._new_update = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0
        self.webhook_client = httpx.AsyncClient(timeout=10)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )

    # --- running -----------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        self._server, self._task, self.port = await serve_asgi(self.app)
        return self

    async def stop(self) -> None:
        await self.webhook_client.aclose()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._new_update.set()
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(self._task, 5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "Jamaah",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # --- what the bot did --------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def fail_next(
        self, chat_id: int, status: int, description: str, retry_after: int | None = None
    ) -> None:
        """The next send to `chat_id` fails like that."""
        self.failures.setdefault(chat_id, deque()).append(Failure(status, description, retry_after))

    def fail_calls(self, method: str, *outcomes: Failure | None) -> None:
        """The next calls of `method` fail, one outcome each: a Failure (a status and its
        description), or DROP: the connection is cut in the middle of the answer."""
        self.outages.setdefault(method, deque()).extend(outcomes)

    # --- people ------------------------------------------------------------------

    def user(self, user_id: int, first_name: str, language_code: str = "id") -> FakeUser:
        return FakeUser(self, user_id, first_name, language_code)

    async def deliver(self, update: dict[str, Any]) -> httpx.Response | None:
        """Give an update to the bot: by webhook when one is set, else to getUpdates."""
        if self.webhook is not None:
            headers = {}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
            response = await self.webhook_client.post(
                self.webhook["url"], json=update, headers=headers
            )
            self._answer_in_reply(response)
            return response
        self.updates.append(update)
        self._new_update.set()
        return None

    def _answer_in_reply(self, response: httpx.Response) -> None:
        """A webhook may answer with a method call in its reply, as Telegram allows."""
        if response.status_code != 200 or not response.content:
            return
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict) and "method" in body:
                params = {k: v for k, v in body.items() if k != "method"}
                self.calls.append(Call(str(body["method"]), params))

    def new_update_id(self) -> int:
        return next(self._update_ids)

    # --- the API -----------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            body = await request.body()
            return dict(json.loads(body)) if body else {}
        params: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        if kind.startswith("application/x-www-form-urlencoded"):
            params.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif kind.startswith("multipart/form-data"):
            parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + kind.encode("latin-1") + b"\r\n\r\n" + body
            )
            for part in parsed.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                data = part.get_payload(decode=True) or b""
                if filename is not None:  # an uploaded file
                    self.files[f"upload-{len(self.files) + 1}"] = data
                    params[str(name)] = f"upload:{filename}"
                else:
                    params[str(name)] = data.decode("utf-8")
        for key in list(params):
            value = params[key]
            if not isinstance(value, str):
                continue
            if key in JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in INT_FIELDS or (key == "chat_id" and value.lstrip("-").isdigit()):
                params[key] = int(value)
        return params

    async def _api(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params))
        outages = self.outages.get(method)
        if outages:
            outage = outages.popleft()
            if outage is None:
                return _dropped()
            return _error(outage.status, outage.description, outage.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result: Response = await handler(params)
        return result

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        file_id = request.path_params["path"].rsplit("/", 1)[-1]
        self.downloads.append(file_id)
        if self.download_delay_s:
            await asyncio.sleep(self.download_delay_s)
        status = self.download_status.get(file_id, 200 if file_id in self.files else 404)
        if status != 200:  # Telegram answers a failed download as it answers a method
            return _error(status, "Not Found" if status == 404 else "Internal Server Error")
        return Response(self.files[file_id], status_code=200)

    async def _m_getMe(self, params: dict[str, Any]) -> Response:
        return _ok(self.bot_user())

    async def _m_getUpdates(self, params: dict[str, Any]) -> Response:
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while not self.updates and time.monotonic() < deadline:
            self._new_update.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            if self._server is not None and self._server.should_exit:
                break
        limit = int(params.get("limit") or 100)
        return _ok(self.updates[:limit])

    async def _m_setWebhook(self, params: dict[str, Any]) -> Response:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return _ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Response:
        self.webhook = None
        return _ok(True)

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Response:
        url = self.webhook["url"] if self.webhook else ""
        info: dict[str, Any] = {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if url and self.webhook_error:
            info["last_error_date"] = int(time.time())
            info["last_error_message"] = self.webhook_error
        return _ok(info)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Response:
        return _ok(True)

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Response:
        scope = params.get("scope") or {"type": "default"}
        key = (json.dumps(scope, sort_keys=True), str(params.get("language_code") or ""))
        if scope.get("type") == "chat" and int(scope["chat_id"]) in self.unknown:
            return _error(400, "Bad Request: chat not found")
        self.commands[key] = list(params.get("commands") or [])
        return _ok(True)

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> Response:
        scope = params.get("scope") or {"type": "default"}
        key = (json.dumps(scope, sort_keys=True), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return _ok(True)

    def menu(self, chat_id: int | None = None, language: str = "") -> list[str]:
        """The command names set for a chat (or everyone), as Telegram would keep them."""
        scope = {"type": "chat", "chat_id": chat_id} if chat_id is not None else {"type": "default"}
        return [
            c["command"]
            for c in self.commands.get((json.dumps(scope, sort_keys=True), language), [])
        ]

    async def _m_getFile(self, params: dict[str, Any]) -> Response:
        file_id = str(params["file_id"])
        failure = self.get_file_failures.get(file_id)
        if failure is not None:
            return _error(failure.status, failure.description, failure.retry_after)
        found = {
            "file_id": file_id,
            "file_unique_id": file_id[-8:],
            "file_size": len(self.files.get(file_id, b"")),
            "file_path": f"photos/{file_id}",
        }
        if file_id in self.unsized:
            del found["file_size"]
        return _ok(found)

    async def _m_sendMessage(self, params: dict[str, Any]) -> Response:
        return self._send("sendMessage", params, str(params.get("text", "")), None)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Response:
        return self._send("sendPhoto", params, str(params.get("caption", "")), params["photo"])

    async def _m_sendDocument(self, params: dict[str, Any]) -> Response:
        doc = params["document"]
        return self._send("sendDocument", params, str(params.get("caption", "")), doc)

    async def _m_editMessageText(self, params: dict[str, Any]) -> Response:
        for sent in self.sent:
            if sent.message_id == int(params["message_id"]):
                sent.text = str(params["text"])
                sent.buttons = _buttons(params.get("reply_markup"))
                return _ok(self._message(sent))
        return _error(400, "Bad Request: message to edit not found")

    def _send(self, method: str, params: dict[str, Any], text: str, file: Any) -> Response:
        chat_id = int(params["chat_id"])
        queued = self.failures.get(chat_id)
        if queued:
            failure = queued.popleft()
            return _error(failure.status, failure.description, failure.retry_after)
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.unknown:
            return _error(400, "Bad Request: chat not found")
        if self.enforce_limits:
            limited = self._limited(chat_id)
            if limited is not None:
                return _error(429, f"Too Many Requests: retry after {limited}", limited)
        if params.get("parse_mode") == "HTML" and not _valid_html(text):
            return _error(400, "Bad Request: can't parse entities: unsupported start tag")
        if len(text) > (4096 if method == "sendMessage" else 1024):
            return _error(400, "Bad Request: message is too long")
        if method == "sendMessage" and not text.strip():
            return _error(400, "Bad Request: message text is empty")
        self._sends.append((self.clock(), chat_id))
        sent = Sent(
            message_id=next(self._ids),
            chat_id=chat_id,
            method=method,
            text=text,
            buttons=_buttons(params.get("reply_markup")),
            file=str(file) if file is not None else None,
        )
        self.sent.append(sent)
        return _ok(self._message(sent))

    def _limited(self, chat_id: int) -> int | None:
        """Seconds to wait when one more send would pass 1/s per chat or 30/s overall."""
        now = self.clock()
        while self._sends and now - self._sends[0][0] >= 1.0:
            self._sends.popleft()
        if len(self._sends) >= self.overall_per_s:
            return 1
        if sum(1 for _, chat in self._sends if chat == chat_id) >= self.per_chat_per_s:
            return 1
        return None

    def _message(self, sent: Sent) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private", "first_name": "User"},
            "from": self.bot_user(),
        }
        if sent.method == "sendPhoto":
            message["photo"] = [_photo_size("sent-photo", 90), _photo_size("sent-photo-l", 800)]
            if sent.text:
                message["caption"] = sent.text
        elif sent.method == "sendDocument":
            message["document"] = {"file_id": "sent-doc", "file_unique_id": "sdoc"}
            if sent.text:
                message["caption"] = sent.text
        else:
            message["text"] = sent.text
        if sent.buttons:
            message["reply_markup"] = {
                "inline_keyboard": [[{"text": t, "callback_data": d}] for t, d in sent.buttons]
            }
        return message


@dataclass
class FakeUser:
    """A person on Telegram, in a private chat with the bot (chat id = user id)."""

    api: FakeTelegram
    id: int
    first_name: str
    language_code: str = "id"

    def user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self.api._ids),
            "date": int(time.time()),
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
            "from": self.user(),
            **content,
        }

    def update(self, **content: Any) -> dict[str, Any]:
        return {"update_id": self.api.new_update_id(), **content}

    def text_update(self, text: str) -> dict[str, Any]:
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message = self._message(text=text)
        if entities:
            message["entities"] = entities
        return self.update(message=message)

    def press_update(self, data: str, message_id: int | None = None) -> dict[str, Any]:
        origin = self._message(text="…") | {"from": self.api.bot_user()}
        if message_id is not None:
            origin["message_id"] = message_id
        return self.update(
            callback_query={
                "id": f"cq{self.api.new_update_id()}",
                "from": self.user(),
                "chat_instance": f"ci{self.id}",
                "message": origin,
                "data": data,
            }
        )

    def photo_update(self, caption: str | None = None) -> dict[str, Any]:
        file_id = f"AgACphoto{self.api.new_update_id()}"
        self.api.files[file_id] = b"\xff\xd8\xff fake jpeg"
        content: dict[str, Any] = {
            "photo": [_photo_size(file_id + "-s", 90), _photo_size(file_id, 1280)]
        }
        if caption:
            content["caption"] = caption
        return self.update(message=self._message(**content))

    async def say(self, text: str) -> dict[str, Any]:
        update = self.text_update(text)
        await self.api.deliver(update)
        return update

    async def press(self, label_or_data: str) -> dict[str, Any]:
        """Press a button of the bot's latest message to this chat, by label or data."""
        for sent in reversed(self.api.sent_to(self.id)):
            for label, data in sent.buttons:
                if label_or_data in (label, data):
                    update = self.press_update(data, sent.message_id)
                    await self.api.deliver(update)
                    return update
            if sent.buttons:
                break
        raise AssertionError(f"no button {label_or_data!r} on the last keyboard")

    async def send_photo(self, caption: str | None = None) -> dict[str, Any]:
        update = self.photo_update(caption)
        await self.api.deliver(update)
        return update

    def sticker_update(self) -> dict[str, Any]:
        sticker = {
            "file_id": "CAACsticker",
            "file_unique_id": "stk",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.update(message=self._message(sticker=sticker))

    def voice_update(self) -> dict[str, Any]:
        voice = {"file_id": "AwACvoice", "file_unique_id": "vc", "duration": 4}
        return self.update(message=self._message(voice=voice))

    def edit_update(self, text: str) -> dict[str, Any]:
        return self.update(edited_message=self._message(text=text, edit_date=int(time.time())))


_TAG = re.compile(
    r"</?(b|strong|i|em|u|ins|s|strike|del|span|tg-spoiler|a|code|pre|blockquote|tg-emoji)"
    r"(\s[^<>]*)?>"
)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def _valid_html(text: str) -> bool:
    """Telegram's rule: every <, > and & is part of a supported tag or an entity."""
    rest = _ENTITY.sub("", _TAG.sub("", text))
    return not any(c in rest for c in "<>&")


def _photo_size(file_id: str, side: int) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "file_unique_id": file_id[-10:],
        "width": side,
        "height": side,
        "file_size": side * 10,
    }


def _buttons(markup: Any) -> list[tuple[str, str]]:
    if not markup:
        return []
    return [
        (str(b["text"]), str(b.get("callback_data", "")))
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


DROP = None  # an outcome of `fail_calls`: the connection is cut


def _dropped() -> Response:
    """An answer cut off after its headers, as a dropped connection looks to the client."""

    async def cut() -> AsyncIterator[bytes]:
        yield b'{"ok": tr'
        raise ConnectionResetError("the fake Bot API dropped the connection")

    return StreamingResponse(cut(), media_type="application/json")


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=status)
