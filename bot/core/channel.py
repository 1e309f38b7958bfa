"""What a channel must provide, what it is given, and the registry of adapters by name.

A channel adapter (bot/channels/<name>.py) knows the kernel only. It provides
`async def setup(host: Host, settings: Settings) -> ChannelRuntime`: it registers its
`Channel` (parse, send, capabilities) in `host.channels`, and returns the web routes it
serves, the long-running tasks it needs (polling, say) and what to do on shutdown. What
it receives it hands to the `Host`: messages to `receive`, delivery reports (already
parsed into a `DeliveryReport`) to `report_delivery`; what happens then (routing, the
outbox's retry rules) is decided above it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from bot.core.clock import Clock
from bot.core.messages import InboundMessage, OutboundMessage, SendContext, SendResult
from content.loader import Content


@dataclass(frozen=True)
class Capabilities:
    max_text: int  # longer text is split
    buttons: bool  # False: choices go as a numbered list
    media: bool
    templates: bool  # pre-approved templates outside a messaging window
    markup: str  # "plain" or "html"
    slashless_commands: bool = False  # commands work without "/" (WhatsApp)
    # A received file's ref is an id the channel sends it again by (Telegram's file_id);
    # elsewhere a ref is only where the file was fetched from (Twilio's media URL).
    file_ids: bool = False
    rate_per_s: float = 30.0  # overall
    per_chat_per_s: float = 1.0
    # The document types the channel can deliver (None: any). WhatsApp takes PDF and
    # Office files only; Twilio refuses a CSV or JSON document.
    document_types: frozenset[str] | None = None


class Channel(Protocol):
    name: str
    capabilities: Capabilities

    def parse(self, raw: Any) -> InboundMessage:
        """A raw request or update as an InboundMessage (pure)."""
        ...

    async def send(
        self, address: str, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        """Deliver one message; raise SendError with its failure class."""
        ...


@runtime_checkable
class FileSource(Protocol):
    """A channel that can fetch a file it delivered by its ref (Telegram, by file id)."""

    async def fetch_file(self, ref: str) -> bytes | None:
        """The file's bytes, or None when it cannot be had (too big, away, too slow)."""
        ...


class UnknownChannel(KeyError):
    pass


class Registry:
    """Channel adapters by name; nothing else branches on the channel."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}

    def register(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel:
        try:
            return self._channels[name]
        except KeyError:
            raise UnknownChannel(name) from None

    def capabilities(self, name: str) -> Capabilities:
        return self.get(name).capabilities

    def names(self) -> list[str]:
        return sorted(self._channels)


def split_text(text: str, limit: int) -> list[str]:
    """Split text into parts of at most `limit` characters, at paragraph, line or word ends."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n\n")
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


DIGEST_MARK = "#"


def button_digest(data: str) -> str:
    """A short stand-in for button data: '#' and 16 URL-safe characters.

    For channels that limit a button's data (Telegram: 64 bytes). The dispatcher
    recognises it by comparing it with the digests of the open question's buttons, so
    a stale or forged digest is refused like any stale button.
    """
    digest = hashlib.blake2b(data.encode("utf-8"), digest_size=12).digest()
    return DIGEST_MARK + base64.urlsafe_b64encode(digest).decode("ascii")


def fit_button_data(data: str, limit: int) -> str:
    """`data` itself when it fits in `limit` bytes (UTF-8), else its digest."""
    if len(data.encode("utf-8")) <= limit and not data.startswith(DIGEST_MARK):
        return data
    return button_digest(data)


@dataclass(frozen=True)
class Outcome:
    """What became of one inbound message."""

    duplicate: bool = False
    replies: int = 0
    failed: bool = False
    roles_changed: bool = False  # their command menu needs refreshing (an invite redeemed)


@dataclass(frozen=True)
class DeliveryReport:
    """A channel's word on a message it sent (Twilio's status callback), parsed.

    `failure` is the failure class (bot/core/messages.py: RETRY, HELD, OPTED_OUT, ...)
    when the channel says it failed; None for progress (sent, delivered, read).
    """

    channel: str
    external_id: str
    state: str
    code: str | None = None
    failure: str | None = None


@runtime_checkable
class WindowedChannel(Protocol):
    """A channel with a messaging window (WhatsApp's 24 hours): a message it refused as
    outside the window may go again as an approved template, if its kind has one."""

    def resend_as_template(self, kind: str, address: str) -> bool:
        """True (and the window noted closed) when `kind` can go again as a template."""
        ...


class NamedCommand(Protocol):
    """A chat command as a channel's menu sees it (bot/core/commands.py's `Command`)."""

    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...

    @property
    def roles(self) -> tuple[str, ...]: ...


class Host(Protocol):
    """What a channel adapter is given by the application (bot/app.py's `App`)."""

    db: AsyncEngine
    clock: Clock
    content: Content
    channels: Registry

    @property
    def commands(self) -> Sequence[NamedCommand]:
        """Every chat command (for a channel that shows command menus)."""
        ...

    async def receive(self, message: InboundMessage) -> Outcome:
        """Handle one inbound message (deduplicated, answered, committed)."""
        ...

    async def report_delivery(self, report: DeliveryReport) -> None:
        """Apply a delivery report to the outbox with the sender's retry rules."""
        ...

    def wake_sender(self) -> None:
        """Something was queued: the sender looks at the outbox now."""
        ...


@dataclass
class ChannelRuntime:
    """What a started channel needs of `jamaah run` (bot/serve.py)."""

    routes: list[BaseRoute] = field(default_factory=list)
    tasks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    stop: Callable[[], Awaitable[None]] | None = None
    # The task through which the channel hears (Telegram's long polling), one of `tasks`:
    # while it is not running /healthz reports the channel dead, and should it end,
    # `jamaah run` stops (nothing would hear that channel's people any more).
    receiver: Callable[[], Awaitable[None]] | None = None
    name: str = ""
