"""The Telegram channel, on python-telegram-bot 22's `Bot` (the HTTP client only).

`TelegramChannel` is the adapter: `parse` turns an update into an `InboundMessage`,
`send` delivers one message and classifies failures, `fetch_file` fetches a file someone
sent by its file id (a facilitator's broadcast photo, passed on to WhatsApp). `setup`
(called by `jamaah run`) registers it and receives updates by long polling, or by webhook
on the one Starlette app when `JAMAAH_PUBLIC_URL` and `JAMAAH_TELEGRAM_WEBHOOK_SECRET` are
set. Both hand the updates to the same dispatcher, which processes each update id once.

python-telegram-bot's `Application` is not used: it would keep its own queue, retries
and rate limits, while here the outbox and its sender decide what goes when (and the
Bot never retries or throttles on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
import re
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.core.bodies import read_limited
from bot.core.channel import Capabilities, ChannelRuntime, Host, fit_button_data
from bot.core.config import Settings
from bot.core.menus import EVERYONE, Menu, menu_for, staff_roles
from bot.core.messages import (
    BUTTON,
    EDIT,
    MEDIA,
    PERMANENT,
    RETRY,
    TEXT,
    UNREACHABLE,
    UNSUPPORTED,
    Button,
    InboundMessage,
    Media,
    OutboundMessage,
    SendContext,
    SendError,
    SendResult,
    stored_file_token,
)
from bot.core.phones import mask_numbers, mask_phone
from storage import repo

log = logging.getLogger(__name__)
# PTB 22 warns on every RetryAfter that `retry_after` will become a timedelta;
# `retry_seconds` reads either.
warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)
# Polling asks for the raw updates (`Receiver.poll`), which PTB suggests get_updates for.
warnings.filterwarnings("ignore", message=".*Bot.getUpdates.*", category=PTBUserWarning)

TELEGRAM = "telegram"
DEFAULT_API = "https://api.telegram.org"
CALLBACK_DATA_MAX = 64  # bytes
CAPTION_MAX = 1024
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
GROUP_PER_MINUTE = 20  # Telegram: about 20 messages a minute to one group
POLL_TIMEOUT_S = 30
POLL_READ_SLACK_S = 10.0  # a long poll's read timeout: its own timeout and this
# A failed call is tried again after 2, 4, 8, ... seconds, at most a minute apart.
RETRY_FIRST_S = 2.0
RETRY_MAX_S = 60.0
MENU_SYNC_S = 600.0
USERNAME_KEY = "telegram.username."  # + the bot's id: the cached username
MENUS_KEY = "telegram.menus"  # the chat menus set: address -> [[command, description]]
# A file fetched to be passed on to other channels: WhatsApp takes images of at most 5 MB
# (Twilio), so a bigger copy would reach no one there. Telegram's own limit is 20 MB.
MAX_FETCH_BYTES = 5 * 1024 * 1024
# getFile and the download together. The message it came with waits for it (and, when
# polling, the updates behind it): better a photo on Telegram only than a long wait.
FETCH_TIMEOUT_S = 10.0
# An update is a few KB (a 4096-character text, its entities, the message it replies to):
# a webhook body over this is refused with 413 before it is read (bot/core/bodies.py).
MAX_UPDATE_BYTES = 1024 * 1024


class Ignored(ValueError):
    """An update that is nobody's message to answer (a group, a member change, ...)."""


DocumentLoader = Callable[[str], Awaitable[tuple[str, bytes] | None]]


class TelegramChannel:
    name = TELEGRAM
    capabilities = Capabilities(
        max_text=4096,
        buttons=True,
        media=True,
        templates=False,
        markup="html",
        rate_per_s=30.0,
        per_chat_per_s=1.0,
        file_ids=True,
    )

    def __init__(self, bot: Bot, *, documents: DocumentLoader | None = None) -> None:
        self.bot = bot
        self.documents = documents
        self._group_sends: dict[str, deque[dt.datetime]] = {}
        self.max_fetch_bytes = MAX_FETCH_BYTES
        self.fetch_timeout_s = FETCH_TIMEOUT_S

    # --- inbound -----------------------------------------------------------------

    def parse(self, raw: Any) -> InboundMessage:
        """An update (a `telegram.Update` or its JSON) as an InboundMessage.

        Raises `Ignored` for updates that are not a person writing to the bot in a
        private chat.
        """
        update = raw if isinstance(raw, Update) else Update.de_json(raw, self.bot)
        external_id = str(update.update_id)
        query = update.callback_query
        if query is not None:
            chat = query.message.chat if query.message is not None else None
            if chat is not None and chat.type != "private":
                raise Ignored("a button in a group")
            return InboundMessage(
                channel=TELEGRAM,
                address=str(chat.id if chat is not None else query.from_user.id),
                external_id=external_id,
                kind=BUTTON,
                button=query.data or "",
                display_name=_display_name(query.from_user),
            )
        message = update.message or update.edited_message
        if message is None:
            raise Ignored("not a message")
        if message.chat.type != "private":
            raise Ignored("a message in a group")
        base = InboundMessage(
            channel=TELEGRAM,
            address=str(message.chat.id),
            external_id=external_id,
            display_name=_display_name(message.from_user),
            received_at=message.date,
        )
        if update.edited_message is not None:
            return replace(base, kind=UNSUPPORTED, media=(Media(EDIT),))
        if message.text is not None:
            return replace(base, kind=TEXT, text=message.text)
        caption = message.caption or ""
        if message.photo:
            largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
            media = Media("photo", largest.file_id, "image/jpeg")
            return replace(base, kind=MEDIA, text=caption, media=(media,))
        if message.document is not None:
            doc = message.document
            media = Media("document", doc.file_id, doc.mime_type)
            return replace(base, kind=MEDIA, text=caption, media=(media,))
        return replace(base, kind=UNSUPPORTED, media=(Media(_kind_of(message)),))

    async def fetch_file(self, ref: str) -> bytes | None:
        """The bytes of a file someone sent the bot, by its file id (getFile, then the
        download into memory); None when it is over `max_fetch_bytes`, or Telegram could
        not give it within `fetch_timeout_s`. A file id works only on Telegram: the copy
        is what reaches other channels."""
        limit = self.max_fetch_bytes
        try:
            async with asyncio.timeout(self.fetch_timeout_s):
                found = await self.bot.get_file(ref)
                if found.file_size is not None and found.file_size > limit:
                    log.warning("telegram: a file of %d bytes was not fetched", found.file_size)
                    return None
                data = bytes(await found.download_as_bytearray())
        except (TelegramError, TimeoutError, RuntimeError) as error:  # RuntimeError: no path
            # The type only: the message of a failed download may hold its URL, and the
            # URL holds the bot's token.
            log.warning("telegram: could not fetch a file: %s", type(error).__name__)
            return None
        if not data or len(data) > limit:  # getFile need not tell the size
            log.warning("telegram: a fetched file of %d bytes was not kept", len(data))
            return None
        return data

    # --- outbound ----------------------------------------------------------------

    async def send(
        self, address: str, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        """Send one message (text at most 4096 characters: the sender splits longer)."""
        chat_id = _chat_id(address)
        group = isinstance(chat_id, int) and chat_id < 0
        if group and context is not None:
            self._check_group_pace(address, context.now)
        markup = keyboard(message.buttons)
        try:
            if message.media is not None:
                ids = await self._send_media(chat_id, message, markup)
            else:
                sent = await self.bot.send_message(
                    chat_id,
                    message.text or "…",
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                ids = [sent.message_id]
        except TelegramError as error:
            raise classify(error) from error
        if group and context is not None:
            self._group_sends.setdefault(address, deque()).append(context.now)
        return SendResult(external_id=",".join(str(i) for i in ids))

    async def _send_media(
        self, chat_id: int | str, message: OutboundMessage, markup: InlineKeyboardMarkup | None
    ) -> list[int]:
        media = message.media
        assert media is not None
        payload: Any = media.ref
        token = stored_file_token(media.ref)
        if token is not None:
            found = await self.documents(token) if self.documents else None
            if found is None:
                raise SendError(PERMANENT, f"no document {media.ref}")
            filename, data = found
            payload = InputFile(data, filename=filename)
        fits = len(message.text) <= CAPTION_MAX
        caption = message.text if fits and message.text else None
        options: dict[str, Any] = {
            "caption": caption,
            "parse_mode": ParseMode.HTML if caption else None,
            "reply_markup": markup if fits else None,
        }
        sent: Message
        if media.kind == "photo":
            sent = await self.bot.send_photo(chat_id, payload, **options)
        else:
            sent = await self.bot.send_document(chat_id, payload, **options)
        ids = [sent.message_id]
        if not fits:  # too long for a caption: the text follows as a message
            more = await self.bot.send_message(
                chat_id, message.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            ids.append(more.message_id)
        return ids

    def _check_group_pace(self, address: str, now: dt.datetime) -> None:
        """At most 20 messages a minute to a group: later ones wait (RETRY, retry_after)."""
        sent = self._group_sends.get(address)
        if not sent:
            return
        while sent and now - sent[0] >= dt.timedelta(minutes=1):
            sent.popleft()
        if len(sent) >= GROUP_PER_MINUTE:
            wait = (sent[0] + dt.timedelta(minutes=1) - now).total_seconds()
            raise SendError(RETRY, "group limit: 20 a minute", retry_after=max(wait, 1.0))


# --- helpers ---------------------------------------------------------------------


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Inline buttons, short ones side by side (up to three, ~24 characters a row)."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    width = 0
    for button in buttons:
        data = fit_button_data(button.data, CALLBACK_DATA_MAX)
        cell = InlineKeyboardButton(button.label[:64], callback_data=data)
        if rows and len(rows[-1]) < 3 and width + len(button.label) <= 24:
            rows[-1].append(cell)
            width += len(button.label)
        else:
            rows.append([cell])
            width = len(button.label)
    return InlineKeyboardMarkup(rows)


def classify(error: TelegramError) -> SendError:
    """A Bot API error as a failure class for the sender."""
    reason = f"{type(error).__name__}: {error.message}"[:300]
    if isinstance(error, RetryAfter):
        return SendError(RETRY, reason, retry_after=retry_seconds(error), code="429")
    if isinstance(error, Forbidden):  # blocked, deactivated, kicked from the group
        return SendError(UNREACHABLE, reason, code="403")
    if isinstance(error, ChatMigrated):
        return SendError(PERMANENT, f"{reason} (now {error.new_chat_id})", code="400")
    if isinstance(error, BadRequest):  # chat not found, bad markup: never going to work
        return SendError(PERMANENT, reason, code="400")
    if isinstance(error, TimedOut):
        return SendError(RETRY, reason, code="timeout")
    if isinstance(error, InvalidToken):  # the operator's to fix; keep the messages
        return SendError(RETRY, reason, code="401")
    if isinstance(error, Conflict):
        return SendError(RETRY, reason, code="409")
    if isinstance(error, NetworkError):  # network trouble or a 5xx
        return SendError(RETRY, reason, code="network")
    return SendError(RETRY, reason)


def _chat_id(address: str) -> int | str:
    return int(address) if re.fullmatch(r"-?\d+", address) else address


def _display_name(user: Any) -> str | None:
    if user is None:
        return None
    return str(user.full_name)[:120] or None


def _kind_of(message: Message) -> str:
    for kind in (
        "sticker",
        "voice",
        "audio",
        "video",
        "video_note",
        "animation",
        "location",
        "venue",
        "contact",
        "poll",
        "dice",
    ):
        if getattr(message, kind, None):
            return kind
    return "other"


def api_urls(base: str | None) -> tuple[str, str]:
    """(base_url, base_file_url) for a Bot API server's root URL (Telegram's by default)."""
    root = (base or DEFAULT_API).rstrip("/")
    root = root.removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def make_bot(settings: Settings) -> Bot:
    """A Bot for the settings' token and server. It neither retries nor throttles."""
    assert settings.telegram_token
    base_url, base_file_url = api_urls(settings.telegram_base_url)
    return Bot(
        settings.telegram_token,
        base_url=base_url,
        base_file_url=base_file_url,
        request=HTTPXRequest(
            connection_pool_size=8,
            connect_timeout=10.0,
            read_timeout=15.0,
            write_timeout=20.0,
            pool_timeout=5.0,
            media_write_timeout=60.0,
        ),
        get_updates_request=HTTPXRequest(
            connection_pool_size=1, connect_timeout=10.0, read_timeout=10.0
        ),
    )


def deep_link(username: str, join_code: str) -> str:
    return f"https://t.me/{username}?start={join_code}"


async def bot_username(bot: Bot, db: AsyncEngine) -> str:
    """The bot's @username (without @), asked once with getMe and kept in the database."""
    key = USERNAME_KEY + bot.token.split(":", 1)[0]
    async with db.begin() as conn:
        cached = await repo.get_value(conn, key=key)
    if cached:
        return str(cached)
    me = await bot.get_me()
    username = str(me.username)
    async with db.begin() as conn:
        await repo.set_value(conn, key=key, value=username)
    return username


def document_loader(db: AsyncEngine) -> DocumentLoader:
    """Reads a document the bot made (the business-plan PDF) by its token."""

    async def load(token: str) -> tuple[str, bytes] | None:
        async with db.begin() as conn:
            row = await repo.get_document(conn, token=token)
        if row is None or row.data is None:
            return None
        return str(row.filename), bytes(row.data)

    return load


# --- command menus -------------------------------------------------------------------


class Menus:
    """Keeps Telegram's command menus in step with roles and languages.

    Everyone gets the participant commands (default scope, Indonesian, and English for
    English-language Telegram apps). Staff, and people who chose the other language,
    get a menu for their own chat in their language. What was set is remembered, so a
    sync only calls Telegram for what changed.
    """

    def __init__(self, bot: Bot, host: Host, default_language: str = "id") -> None:
        self.bot, self.host, self.default_language = bot, host, default_language
        self.known: dict[str, Menu] = {}  # chat menus set, by address (kept in the database)
        self._loaded = False
        self._default_done = False

    def _menu(self, roles: frozenset[str], language: str) -> Menu:
        locale = language if language in ("id", "en") else "id"
        return menu_for(self.host.commands, roles, locale, self.host.content.renderer)

    async def sync(self, only: set[str] | None = None) -> int:
        """Set the menus that changed; returns how many calls were made."""
        calls = 0
        if not self._default_done:
            other = "en" if self.default_language != "en" else "id"
            await self._set(self._menu(EVERYONE, self.default_language), None, None)
            await self._set(self._menu(EVERYONE, other), None, other)
            self._default_done = True
            calls += 2
        async with self.host.db.begin() as conn:
            wanted = await repo.menu_people(
                conn, channel=TELEGRAM, default_language=self.default_language
            )
            if not self._loaded:  # what an earlier run set, so that it can be undone
                stored = await repo.get_value(conn, key=MENUS_KEY) or {}
                self.known = {a: tuple((n, d) for n, d in m) for a, m in stored.items()}
                self._loaded = True
        before = dict(self.known)
        for address, (language, roles) in wanted.items():
            if only is not None and address not in only:
                continue
            menu_roles = staff_roles(roles) or EVERYONE
            menu = self._menu(menu_roles, language)
            if self.known.get(address) == menu:
                continue
            try:
                await self._set(menu, _chat_id(address), None)
                self.known[address] = menu
                calls += 1
            except TelegramError as error:  # not started the bot yet, say: next time
                if heals(error):  # Telegram away: the whole sync is tried again
                    await self._store(before)
                    raise
                log.warning(
                    "could not set the Telegram menu of chat %s (%s); it is tried again "
                    "at the next sync",
                    mask_phone(address),
                    mask_numbers(str(error)),
                )
        for address in [a for a in self.known if a not in wanted]:
            if only is not None and address not in only:
                continue
            with contextlib.suppress(TelegramError):
                await self.bot.delete_my_commands(scope=BotCommandScopeChat(_chat_id(address)))
                calls += 1
            del self.known[address]
        await self._store(before)
        return calls

    async def _store(self, before: dict[str, Menu]) -> None:
        """Keep what was set, so that the next run knows it."""
        if self.known != before:
            async with self.host.db.begin() as conn:
                stored = {a: [list(entry) for entry in m] for a, m in self.known.items()}
                await repo.set_value(conn, key=MENUS_KEY, value=stored)

    async def _set(self, menu: Menu, chat_id: int | str | None, language: str | None) -> None:
        scope = BotCommandScopeChat(chat_id) if chat_id is not None else BotCommandScopeDefault()
        await self.bot.set_my_commands(
            [BotCommand(name, description) for name, description in menu],
            scope=scope,
            language_code=language,
        )

    async def run(self, every_s: float = MENU_SYNC_S) -> None:
        """Sync now and every `every_s` seconds (roles change from the command line); a
        sync that meets a network fault is tried again with backoff (`until_done`)."""
        while True:
            if await until_done(self.sync, "syncing the Telegram menus") == REFUSED:
                return  # said once: a wrong token is not tried every 10 minutes
            await asyncio.sleep(every_s)


# --- running: polling or webhook -----------------------------------------------------


class Receiver:
    """Hands updates to the dispatcher and wakes the sender; answers button spinners."""

    def __init__(self, host: Host, channel: TelegramChannel, poll_timeout: int = POLL_TIMEOUT_S):
        self.host, self.channel, self.bot = host, channel, channel.bot
        self.poll_timeout = poll_timeout
        self.closing = False  # set on shutdown: a failing long poll is then expected
        self._answering: set[asyncio.Task[None]] = set()
        self.menus: Menus | None = None  # set by setup(): refreshes a new staff member's menu

    async def handle(self, raw: Update | dict[str, Any], *, answer_query: bool = True) -> bool:
        """Handle one update; False when it was ignored or could not be read (then it is
        answered, where its chat can be told, as anything else the bot cannot read)."""
        try:
            update = raw if isinstance(raw, Update) else Update.de_json(raw, self.bot)
        except Exception as error:  # a malformed update must not stop the others
            await self.unreadable(raw if isinstance(raw, dict) else {}, error)
            return False
        if answer_query and update.callback_query is not None:  # even an ignored one
            # Beside the turn, not before it: the next updates need not wait for it.
            task = asyncio.create_task(self.answer_query(update.callback_query.id))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        try:
            message = self.channel.parse(update)
        except Ignored:
            return False
        except Exception as error:
            await self.unreadable(update.to_dict(), error)
            return False
        outcome = await self.host.receive(message)
        self.host.wake_sender()
        if outcome.roles_changed and self.menus is not None:  # a redeemed staff invite
            try:
                await self.menus.sync(only={message.address})
            except Exception:  # the periodic sync sets it later
                log.exception("setting the Telegram menu of a new staff member failed")
        return True

    async def unreadable(self, data: dict[str, Any], error: Exception) -> None:
        """An update python-telegram-bot (or `parse`) could not read: one log line with
        its id and where reading failed (never its content: it is someone's message), and
        where a private chat can be made out, the answer to anything the bot cannot read,
        in the person's language (invariant 8), processed once like any update."""
        update_id = data.get("update_id")
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = "?"
        if frame is not None:
            where = f"{frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}"
        log.error(
            "could not read Telegram update %s (%s at %s); skipped, and answered where its "
            "chat is known",
            update_id if isinstance(update_id, int) else "without an id",
            type(error).__name__,
            where,
            extra={"update_id": update_id} if isinstance(update_id, int) else None,
        )
        address = _private_chat(data)
        if address is None or not isinstance(update_id, int):
            return
        message = InboundMessage(
            channel=TELEGRAM,
            address=address,
            external_id=str(update_id),
            kind=UNSUPPORTED,
            media=(Media("other"),),
        )
        try:
            await self.host.receive(message)
        except Exception:  # the database away, say: the next updates still go on
            log.exception("answering unreadable Telegram update %s failed", update_id)
            return
        self.host.wake_sender()

    async def answer_query(self, query_id: str) -> None:
        """Stop the button's spinner; the answer itself comes as a message."""
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:  # too old, or Telegram away: the reply still comes
            log.info("answering callback query %s failed: %s", query_id, mask_numbers(str(error)))

    async def poll(self) -> None:
        """Long polling: getUpdates with an offset, forever."""
        removed = await until_done(
            lambda: self.bot.delete_webhook(drop_pending_updates=False),
            "removing the Telegram webhook before polling",
        )
        if removed == REFUSED:
            return
        offset: int | None = None
        failures = 0
        while True:
            try:
                # The raw updates, each read on its own (`handle`): PTB's get_updates reads
                # them all at once, so one it cannot read would fail the whole batch for
                # ever, and it logs the batch, people's messages with it.
                updates = await self.bot.do_api_request(
                    "getUpdates",
                    api_kwargs={
                        "offset": offset,
                        "timeout": self.poll_timeout,
                        "allowed_updates": list(ALLOWED_UPDATES),
                    },
                    read_timeout=self.poll_timeout + POLL_READ_SLACK_S,
                )
            except TelegramError as error:
                if self.closing:
                    return
                failures += 1
                wait = _pause(error, failures)
                log.warning(
                    "getUpdates failed (%s); again in %.0f s", mask_numbers(str(error)), wait
                )
                await asyncio.sleep(wait)
                continue
            failures = 0
            for update in updates if isinstance(updates, list) else []:
                update_id = update.get("update_id") if isinstance(update, dict) else None
                if isinstance(update_id, int):  # acknowledged, read or not
                    offset = max(offset or 0, update_id + 1)
                await self.handle(update if isinstance(update, dict) else {})

    async def register_webhook(self, url: str, secret: str) -> None:
        await until_done(
            lambda: self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            ),
            f"registering the Telegram webhook {url}",
        )

    def webhook_route(self, secret: str) -> Route:
        expected = secret.encode("ascii")

        async def webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                return Response("forbidden", status_code=403)
            body = await read_limited(request, MAX_UPDATE_BYTES)  # 413 beyond, unread
            try:
                data = json.loads(body)
            except ValueError:
                return Response("not an update", status_code=400)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                return Response("not an update", status_code=400)
            try:
                update = Update.de_json(data, self.bot)
            except Exception as error:  # answered, and acknowledged: Telegram would resend
                await self.unreadable(data, error)
                return Response(status_code=200)
            await self.handle(update, answer_query=False)
            query = update.callback_query
            if query is not None:  # answer the spinner in the reply: no extra request
                return JSONResponse(
                    {"method": "answerCallbackQuery", "callback_query_id": query.id}
                )
            return Response(status_code=200)

        return Route(WEBHOOK_PATH, webhook, methods=["POST"])


def _private_chat(data: dict[str, Any]) -> str | None:
    """The private chat of a raw update, where it can be made out; None otherwise."""
    for key in ("message", "edited_message"):
        message = data.get(key)
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and chat.get("type") == "private":
            chat_id = chat.get("id")
            if isinstance(chat_id, int):
                return str(chat_id)
    query = data.get("callback_query")
    sender = query.get("from") if isinstance(query, dict) else None
    if isinstance(sender, dict) and isinstance(sender.get("id"), int):
        message = query.get("message") if isinstance(query, dict) else None
        chat = message.get("chat") if isinstance(message, dict) else None
        if not isinstance(chat, dict) or chat.get("type") in (None, "private"):
            return str(sender["id"])
    return None


def _pause(error: Exception, failures: int) -> float:
    if isinstance(error, RetryAfter):
        return retry_seconds(error)
    return float(min(RETRY_FIRST_S * 2 ** min(failures - 1, 6), RETRY_MAX_S))


def heals(error: Exception) -> bool:
    """Whether the same call may succeed later: a network fault, a 5xx (PTB's
    NetworkError), a rate limit, Telegram busy. A wrong token, or a request Telegram
    refuses as it is (400, 403), fails the same way every time."""
    if isinstance(error, InvalidToken | BadRequest | Forbidden):
        return False
    return isinstance(error, TelegramError | OSError | TimeoutError)


# What became of a start-up call (`until_done`).
DONE, REFUSED, FAILED = "done", "refused", "failed"


async def until_done(call: Callable[[], Awaitable[Any]], what: str) -> str:
    """A call `jamaah run` makes to Telegram at start (and the menus' periodic sync), tried
    again with backoff while its failure can heal, each failure one warning line.

    DONE once it succeeded; REFUSED, said plainly, when Telegram refused it in a way no
    retry heals (a wrong token): not tried again; FAILED when it failed otherwise (a
    bug, or the database away), logged with its traceback, for the caller's next turn."""
    failures = 0
    while True:
        try:
            await call()
        except Exception as error:
            if isinstance(error, InvalidToken):
                log.error(
                    "%s failed: Telegram refused the bot's token (JAMAAH_TELEGRAM_TOKEN): "
                    "check it with @BotFather and restart; not tried again",
                    what,
                )
                return REFUSED
            if isinstance(error, TelegramError) and not heals(error):
                log.error(
                    "%s failed: Telegram refused it (%s); not tried again",
                    what,
                    mask_numbers(str(error)),
                )
                return REFUSED
            if not heals(error):
                log.exception("%s failed", what)
                return FAILED
            failures += 1
            wait = _pause(error, failures)
            log.warning(
                "%s failed (%s: %s); trying again in %.0f s",
                what,
                type(error).__name__,
                mask_numbers(str(error)),
                wait,
            )
            await asyncio.sleep(wait)
        else:
            if failures:
                log.warning("%s: done after %d failed attempt(s)", what, failures)
            return DONE


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter's wait in seconds (PTB 22 gives an int, or a timedelta when opted in)."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)


def webhook_mode(settings: Settings) -> bool:
    return bool(settings.public_url and settings.telegram_webhook_secret)


async def setup(host: Host, settings: Settings) -> ChannelRuntime:
    """Register the Telegram channel; poll, or take updates by webhook."""

    secret = settings.telegram_webhook_secret
    if secret is not None and not SECRET.match(secret):
        raise ValueError(
            "JAMAAH_TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    # httpx logs every request's URL at INFO, and the URL holds the bot's token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    bot = make_bot(settings)

    async def remember_name() -> None:
        await bot.initialize()  # getMe: checks the token; caches the bot's user
        async with host.db.begin() as conn:  # for the deep links `cohort show` prints
            key = USERNAME_KEY + bot.token.split(":", 1)[0]
            await repo.set_value(conn, key=key, value=bot.username)

    async def ask_name_again() -> None:
        await until_done(remember_name, "asking Telegram for the bot's name")

    later: list[Callable[[], Awaitable[None]]] = []
    try:
        await remember_name()
    except InvalidToken:
        await bot.shutdown()
        # PTB's message quotes the whole token: say which bot without the secret part.
        bot_id = settings.telegram_token.split(":", 1)[0] if settings.telegram_token else "?"
        raise RuntimeError(
            f"Telegram refused JAMAAH_TELEGRAM_TOKEN (bot {bot_id}): check it with @BotFather"
        ) from None
    except TelegramError as error:  # Telegram away at start: asked again in the background
        log.warning(
            "Telegram did not answer getMe at start (%s: %s); going on, and asking again",
            type(error).__name__,
            mask_numbers(str(error)),
        )
        later.append(ask_name_again)
    channel = TelegramChannel(bot, documents=document_loader(host.db))
    host.channels.register(channel)
    receiver = Receiver(host, channel)
    menus = Menus(bot, host, settings.default_language)
    receiver.menus = menus

    async def stop() -> None:
        receiver.closing = True
        await bot.shutdown()

    if webhook_mode(settings):
        assert settings.public_url and secret
        url = settings.public_url.rstrip("/") + WEBHOOK_PATH
        return ChannelRuntime(
            routes=[receiver.webhook_route(secret)],
            tasks=[lambda: receiver.register_webhook(url, secret), menus.run, *later],
            stop=stop,
            name=TELEGRAM,
        )
    return ChannelRuntime(
        routes=[],
        tasks=[receiver.poll, menus.run, *later],
        stop=stop,
        receiver=receiver.poll,
        name=TELEGRAM,
    )
