"""The WhatsApp channel through Twilio.

Addresses are phone numbers in E.164 form without Twilio's "whatsapp:" prefix
("+6281234567890"): the same form `jamaah staff add --whatsapp` stores, so a contact is
found whichever way it was made. The prefix is added when sending.

Inbound: Twilio posts each message to POST /whatsapp/inbound (form-encoded, signed with
X-Twilio-Signature). We check the signature against the public URL
(JAMAAH_PUBLIC_URL + path, so it holds behind a reverse proxy), hand the message to the
dispatcher, which deduplicates by MessageSid, and answer with empty TwiML: once the
turn is committed, or after ANSWER_WITHIN_S while it goes on (the replies leave through
the outbox and the API, never in the TwiML).
A photo is fetched with the account's credentials and kept in `documents`; the message
then carries it as Media("photo", "doc:<token>").

Outbound: through the twilio client with its async HTTP client. WhatsApp allows
free-form messages only within 24 hours of the contact's last message; outside it a
message goes as the approved template configured for its kind (JAMAAH_TWILIO_TEMPLATES,
kind -> {"sid": "HX…", "vars": ["name", …]}, filled from `OutboundMessage.vars`), and a
kind without a template is held. An interactive reply (kind "reply") always goes
free-form: it answers the contact, whose window is open. Choices go as numbered lines,
which the flows accept by number or by their words. A file goes as media by URL: a
`Media` whose ref is "doc:<token>" is served from JAMAAH_PUBLIC_URL/files/<token> (see
bot/web.py) while the document has not expired.

Status callbacks (POST /whatsapp/status) update the outbox row by MessageSid: sent,
delivered, read (never backwards), undelivered/failed with Twilio's code. A late 63016
sends a kind with a template again as that template (a reply is held), 21610 marks the
contact opted out, a rate limit sends the row again after a backoff.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.core.bodies import read_limited
from bot.core.channel import Capabilities, ChannelRuntime, DeliveryReport, Host
from bot.core.config import Settings, SettingsError
from bot.core.messages import (
    BUTTON,
    HELD,
    MEDIA,
    OPTED_OUT,
    PERMANENT,
    REPLY,
    RETRY,
    TEXT,
    UNSUPPORTED,
    InboundMessage,
    Media,
    OutboundMessage,
    SendContext,
    SendError,
    SendResult,
    stored_file_ref,
    stored_file_token,
)
from bot.core.phones import PhoneError, mask_phone, normalise_phone
from storage import repo

log = logging.getLogger(__name__)

WHATSAPP = "whatsapp"
MAX_TEXT = 1600
WINDOW = 24 * 3600  # seconds: WhatsApp's customer-service window
INBOUND_PATH = "/whatsapp/inbound"
STATUS_PATH = "/whatsapp/status"
FILES_PATH = "/files"  # served by bot/web.py
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for received media
ANSWER_WITHIN_S = 5.0  # handle a message before answering the webhook, up to this long
TWILIO_API = "https://api.twilio.com"

# Twilio's error codes (https://www.twilio.com/docs/api/errors).
OUTSIDE_WINDOW = "63016"
OPTED_OUT_CODES = {"21610"}  # the number replied STOP / is on the opt-out list
RETRY_CODES = {"30001"}  # queue full
RATE_CODES = {"20429", "63018"}  # too many requests, WhatsApp's rate
RATE_RETRY_S = 5.0  # Twilio says no retry_after: a rate refusal goes again after this
_BUTTON_DATA = re.compile(r"^[a-z0-9_]*:[a-z0-9_]*:.+$")


@dataclass(frozen=True)
class Template:
    sid: str
    vars: tuple[str, ...] = ()


class TemplateConfigError(SettingsError):
    pass


def parse_templates(raw: str | None) -> dict[str, Template]:
    """JAMAAH_TWILIO_TEMPLATES: {"reminder": {"sid": "HX…", "vars": ["name", "goal"]}, …}."""
    if not raw or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise TemplateConfigError(f"JAMAAH_TWILIO_TEMPLATES is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise TemplateConfigError("JAMAAH_TWILIO_TEMPLATES: a JSON object kind -> template")
    templates = {}
    for kind, spec in data.items():
        if isinstance(spec, str):
            spec = {"sid": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("sid"), str):
            raise TemplateConfigError(f"JAMAAH_TWILIO_TEMPLATES[{kind!r}]: needs a 'sid'")
        names = spec.get("vars", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise TemplateConfigError(f"JAMAAH_TWILIO_TEMPLATES[{kind!r}]: 'vars' is a list")
        templates[str(kind)] = Template(spec["sid"], tuple(names))
    return templates


# What Twilio's WhatsApp sends as a document: PDF and Office files
# (twilio.com/docs/whatsapp/guidance-whatsapp-media-messages, read 2026-12-03).
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def media_kind(content_type: str) -> str:
    if content_type.startswith("image/"):
        return "photo"
    for kind in ("audio", "video"):
        if content_type.startswith(kind + "/"):
            return kind
    return "document"


def render_body(message: OutboundMessage) -> str:
    """The text with its choices as numbered lines ("1. Ya"); "1"/"2" or the words answer."""
    if not message.buttons:
        return message.text
    labels = [button.label for button in message.buttons]
    # Labels that carry their own number ("1 - Belum sama sekali") are shown as they are.
    numbered = all(re.match(rf"{i}\b", label.strip()) for i, label in enumerate(labels, start=1))
    lines = labels if numbered else [f"{i}. {label}" for i, label in enumerate(labels, start=1)]
    if len(message.buttons) > 1:
        numbers = [str(i) for i in range(1, len(message.buttons) + 1)]
        lines.append(f"(Balas {', '.join(numbers[:-1])} atau {numbers[-1]})")
    text = message.text.rstrip()
    return f"{text}\n\n" + "\n".join(lines) if text else "\n".join(lines)


def _template_value(value: str) -> str:
    """WhatsApp refuses template variables with line breaks, tabs or long runs of spaces."""
    flat = " ".join(value.split())
    return flat[:1000] or "-"


class WhatsAppChannel:
    name = WHATSAPP

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_url: str | None = None,
        public_url: str | None = None,
        templates: Mapping[str, Template] | None = None,
        mps: float = 10.0,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sender = sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}"
        self.public_url = public_url.rstrip("/") if public_url else None
        self.templates = dict(templates or {})
        self.capabilities = Capabilities(
            max_text=MAX_TEXT,
            buttons=False,
            media=True,
            templates=True,
            markup="plain",
            slashless_commands=True,
            rate_per_s=mps,
            per_chat_per_s=1.0,
            document_types=DOCUMENT_TYPES,
        )
        self.validator = RequestValidator(auth_token)
        self._http: Any = None
        self._client: Any = None
        self.api_url = api_url.rstrip("/") if api_url else None
        self.web: WhatsAppWeb | None = None  # its routes, once set up
        # Contacts Twilio found outside the window although our clock said inside (63016
        # in a status callback): templates until they write again (bounded memory).
        self._closed: collections.OrderedDict[str, None] = collections.OrderedDict()
        # The outbox rows sent as a template: the template stands for the whole message,
        # so the later parts of a split text are not sent again (bounded memory).
        self._templated: collections.OrderedDict[int, str] = collections.OrderedDict()

    # --- the twilio client --------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:  # made on first use, inside the running event loop
            self._http = AsyncTwilioHttpClient(timeout=30)
            self._client = Client(self.account_sid, self.auth_token, http_client=self._http)
            if self.api_url:  # a local fake, or a proxy: every API request goes there
                self._client.api.base_url = self.api_url
        return self._client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = self._client = None

    # --- inbound --------------------------------------------------------------------

    def parse(self, raw: Any) -> InboundMessage:
        """Twilio's webhook form (a mapping of field -> value) as an InboundMessage."""
        form: Mapping[str, Any] = raw
        sender = str(form.get("From") or "")
        wa_id = str(form.get("WaId") or "")
        try:
            address = normalise_phone(sender or f"+{wa_id}")
        except PhoneError:
            address = sender.removeprefix("whatsapp:") or f"+{wa_id}"
        body = str(form.get("Body") or "")
        media: list[Media] = []
        try:
            count = int(form.get("NumMedia") or 0)
        except ValueError:
            count = 0
        for i in range(min(count, 10)):
            url = str(form.get(f"MediaUrl{i}") or "")
            if url.startswith(("https://", "http://")):
                content_type = str(form.get(f"MediaContentType{i}") or "")
                media.append(Media(media_kind(content_type), str(url), content_type or None))
        payload = str(form.get("ButtonPayload") or "")
        button_text = str(form.get("ButtonText") or "")
        kind, button = TEXT, None
        if payload and _BUTTON_DATA.match(payload):
            kind, button = BUTTON, payload
        elif media:
            kind = MEDIA
        elif not body and button_text:
            body = button_text  # a quick reply of a template: its words answer
        elif not body.strip():
            kind = UNSUPPORTED  # a location, a contact card, a reaction
        return InboundMessage(
            channel=WHATSAPP,
            address=address,
            external_id=str(form.get("MessageSid") or form.get("SmsMessageSid") or ""),
            kind=kind,
            text=body or button_text,
            button=button,
            display_name=str(form.get("ProfileName") or "") or None,
            media=tuple(media),
        )

    def valid_signature(self, request: Request, form: Any) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return False
        url = self.public_url_of(request)
        return bool(self.validator.validate(url, form, signature))

    def public_url_of(self, request: Request) -> str:
        """The URL Twilio called, as the outside world sees it (behind a reverse proxy)."""
        if self.public_url is None:
            return str(request.url)
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{self.public_url}{request.url.path}{query}"

    # --- outbound -------------------------------------------------------------------

    def window_closed(self, address: str) -> None:
        self._closed[address] = None
        while len(self._closed) > 10_000:
            self._closed.popitem(last=False)

    def resend_as_template(self, kind: str, address: str) -> bool:
        """Twilio found the window closed: a kind with a template goes again as that
        template (bot/outbound/delivery.py asks); anything else (a reply) is held."""
        if kind not in self.templates:
            return False
        self.window_closed(address)
        return True

    def window_opened(self, address: str) -> None:
        self._closed.pop(address, None)

    def in_window(self, context: SendContext | None) -> bool:
        if context is None:
            return True  # nothing known: let Twilio decide (63016 is classified)
        last = context.last_inbound_at
        return last is not None and (context.now - last).total_seconds() < WINDOW

    async def send(
        self, address: str, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        outbox_id = context.outbox_id if context is not None else None
        if outbox_id is not None and outbox_id in self._templated:
            return SendResult(external_id=self._templated[outbox_id])  # a later part
        to = f"whatsapp:{address}"
        template = self.templates.get(message.kind)
        inside = self.in_window(context) and address not in self._closed
        if inside or message.kind == REPLY:
            try:
                return await self._create(
                    to=to, body=render_body(message), media_url=self._media_urls(message)
                )
            except SendError as error:
                if error.code != OUTSIDE_WINDOW:
                    raise
                if message.kind == REPLY or template is None:
                    why = (
                        "a reply never goes as a template"
                        if message.kind == REPLY
                        else f"no template for {message.kind!r}"
                    )
                    raise SendError(
                        HELD,
                        f"outside WhatsApp's 24-hour window (Twilio {OUTSIDE_WINDOW}); {why}",
                        code=OUTSIDE_WINDOW,
                    ) from None
        if template is None:
            raise SendError(
                HELD,
                f"outside WhatsApp's 24-hour window (Twilio {OUTSIDE_WINDOW}); "
                f"no template for {message.kind!r}",
                code=OUTSIDE_WINDOW,
            )
        variables = {
            str(i): _template_value(message.vars.get(name, ""))
            for i, name in enumerate(template.vars, start=1)
        }
        result = await self._create(
            to=to, content_sid=template.sid, content_variables=json.dumps(variables)
        )
        if outbox_id is not None:
            self._templated[outbox_id] = result.external_id or ""
            while len(self._templated) > 1000:
                self._templated.popitem(last=False)
        return result

    def _media_urls(self, message: OutboundMessage) -> list[str] | None:
        media = message.media
        if media is None or not media.ref:
            return None
        token = stored_file_token(media.ref)
        if token is not None:
            if self.public_url is None:
                raise SendError(PERMANENT, "a file needs JAMAAH_PUBLIC_URL to be sent by URL")
            return [f"{self.public_url}{FILES_PATH}/{token}"]
        if media.ref.startswith(("https://", "http://")):
            return [media.ref]
        raise SendError(PERMANENT, f"media ref {media.ref[:40]!r} is not a URL or a document")

    async def _create(self, *, to: str, **fields: Any) -> SendResult:
        if self.public_url:
            fields["status_callback"] = f"{self.public_url}{STATUS_PATH}"
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            created = await self.client.messages.create_async(to=to, from_=self.sender, **fields)
        except TwilioRestException as error:
            raise classify(error.status, error.code, str(error.msg)) from None
        except (TimeoutError, httpx.HTTPError, OSError) as error:
            raise SendError(RETRY, f"{type(error).__name__}: {error}") from None
        except Exception as error:  # aiohttp's errors, without importing aiohttp here
            if type(error).__module__.startswith("aiohttp"):
                raise SendError(RETRY, f"{type(error).__name__}: {error}") from None
            raise
        log.info("whatsapp: sent %s to %s", created.sid, mask_phone(to))
        return SendResult(external_id=created.sid)


def classify(status: int, code: int | str | None, reason: str) -> SendError:
    """A Twilio error as a failure class."""
    text = str(code) if code is not None else None
    why = f"twilio {status}/{text}: {reason}"[:300]
    if text == OUTSIDE_WINDOW:
        return SendError(HELD, why, code=text)
    if text in OPTED_OUT_CODES:
        return SendError(OPTED_OUT, why, code=text)
    if status == 429 or text in RATE_CODES:  # a refusal for rate: no attempt used up
        return SendError(RETRY, why, code=text, retry_after=RATE_RETRY_S)
    if text in RETRY_CODES or status >= 500:
        return SendError(RETRY, why, code=text)
    return SendError(PERMANENT, why, code=text or str(status))


# --- the web routes -------------------------------------------------------------------

MAX_FORM_BYTES = 256 * 1024  # Twilio's forms are a few KB: 413 beyond (bot/core/bodies.py)


async def read_form(request: Request) -> FormData:
    """Twilio's form-encoded body (without python-multipart, which we do not need); a body
    over MAX_FORM_BYTES is refused with 413 before it is read (or as soon as it passes)."""
    body = await read_limited(request, MAX_FORM_BYTES)
    pairs: list[tuple[str, str | UploadFile]] = list(
        parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    )
    return FormData(pairs)


class WhatsAppWeb:
    """POST /whatsapp/inbound and POST /whatsapp/status."""

    def __init__(
        self, host: Host, channel: WhatsAppChannel, media_client: httpx.AsyncClient | None = None
    ) -> None:
        self.host, self.channel = host, channel
        self.media = media_client or httpx.AsyncClient(
            auth=(channel.account_sid, channel.auth_token), follow_redirects=True, timeout=20
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> list[Route]:
        return [
            Route(INBOUND_PATH, self.inbound, methods=["POST"]),
            Route(STATUS_PATH, self.status, methods=["POST"]),
        ]

    async def settle(self) -> None:
        """Wait until every message received so far has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        await self.media.aclose()

    async def inbound(self, request: Request) -> Response:
        form = await read_form(request)
        if not self.channel.valid_signature(request, form):
            log.warning("whatsapp: refused an inbound webhook with a bad signature")
            return Response("bad signature", status_code=403)
        message = self.channel.parse(form)
        if not message.external_id:
            return Response("no MessageSid", status_code=400)
        # Twilio gives up after 15 s. A message is normally handled (and committed) before
        # we answer, so that a crash cannot lose one Twilio thinks delivered; one that takes
        # longer (a slow photo) goes on after the answer.
        task = asyncio.create_task(self.handle(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout=ANSWER_WITHIN_S)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def handle(self, message: InboundMessage) -> None:
        self.channel.window_opened(message.address)
        try:
            if message.media:
                async with self.host.db.begin() as conn:  # not connect(): see bot/web.py
                    if await repo.inbound_seen(
                        conn, channel=WHATSAPP, external_id=message.external_id
                    ):
                        return  # a redelivery: fetch nothing again
                message = await self.keep_photos(message)
            await self.host.receive(message)
        except Exception:  # the dispatcher answers its own failures; this is the rest
            log.exception("whatsapp: handling %s failed", message.external_id)
        finally:
            self.host.wake_sender()

    async def keep_photos(self, message: InboundMessage) -> InboundMessage:
        """Fetch each photo and keep it in `documents`; its ref becomes "doc:<token>"."""
        kept = []
        for media in message.media:
            if media.kind == "photo" and stored_file_token(media.ref) is None:
                token = await self.fetch_photo(media)
                if token is not None:
                    media = Media(media.kind, stored_file_ref(token), media.content_type)
            kept.append(media)
        return InboundMessage(
            channel=message.channel,
            address=message.address,
            external_id=message.external_id,
            kind=message.kind,
            text=message.text,
            button=message.button,
            display_name=message.display_name,
            media=tuple(kept),
            received_at=message.received_at,
        )

    async def fetch_photo(self, media: Media) -> str | None:
        """The token of the kept photo, or None when it could not be fetched."""
        async with self.host.db.begin() as conn:
            found = await repo.document_by_ref(conn, ref=media.ref)
        if found is not None:
            return str(found.token)
        # The account's credentials go only to Twilio's API (which redirects to the file).
        if not media.ref.startswith((self.channel.api_url or TWILIO_API) + "/"):
            log.warning("whatsapp: a photo not on Twilio's API was not fetched")
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            async with self.media.stream("GET", media.ref) as response:
                response.raise_for_status()
                content_type = response.headers.get(
                    "content-type", media.content_type or "image/jpeg"
                )
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        log.warning("whatsapp: a photo over %d bytes was not kept", size)
                        return None
                    chunks.append(chunk)
        except httpx.HTTPError as error:
            log.warning("whatsapp: could not fetch a photo: %s", type(error).__name__)
            return None
        data = b"".join(chunks)
        token = secrets.token_urlsafe(24)
        now = self.host.clock.now()
        async with self.host.db.begin() as conn:
            await repo.create_document(
                conn,
                token=token,
                filename=f"photo.{content_type.split('/')[-1].split(';')[0] or 'jpg'}",
                content_type=content_type.split(";")[0],
                data=data,
                ref=media.ref,
                now=now,
                # A participant's photo is kept for the facilitator, not published: it
                # is expired for the public /files route from the start.
                expires_at=now,
            )
        return token

    async def status(self, request: Request) -> Response:
        form = await read_form(request)
        if not self.channel.valid_signature(request, form):
            log.warning("whatsapp: refused a status callback with a bad signature")
            return Response("bad signature", status_code=403)
        sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
        state = str(form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        code = str(form.get("ErrorCode") or "") or None
        if sid and state:
            await self.record_status(sid, state, code)
        return Response(status_code=204)

    async def record_status(self, sid: str, state: str, code: str | None) -> None:
        """Hand the status callback to the outbox, with its failure class parsed here."""
        failure = None
        if state in repo.DELIVERY_FAILED and code:
            failure = classify(400, code, f"{state} (status callback)").failure
        report = DeliveryReport(WHATSAPP, sid, state, code, failure)
        await self.host.report_delivery(report)


async def setup(host: Host, settings: Settings) -> ChannelRuntime:
    """Register the WhatsApp adapter and return its web routes (bot/core/channel.py)."""

    assert settings.twilio_account_sid and settings.twilio_auth_token
    assert settings.twilio_whatsapp_from
    try:
        normalise_phone(settings.twilio_whatsapp_from)
    except PhoneError:
        raise SettingsError(
            "JAMAAH_TWILIO_WHATSAPP_FROM: the WhatsApp sender, e.g. whatsapp:+14155238886"
        ) from None
    if not settings.public_url:
        log.warning(
            "JAMAAH_PUBLIC_URL is not set: webhook signatures are checked against the "
            "URL the request arrived at, and files cannot be sent by URL"
        )
    channel = WhatsAppChannel(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_whatsapp_from,
        api_url=settings.twilio_api_url,
        public_url=settings.public_url,
        templates=parse_templates(settings.twilio_templates),
        mps=settings.twilio_mps,
    )
    host.channels.register(channel)
    web = channel.web = WhatsAppWeb(host, channel)

    async def stop() -> None:
        await web.close()
        await channel.close()

    return ChannelRuntime(routes=list(web.routes()), stop=stop)
