"""The one shape every channel adapter has, and the registry of adapters by name."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.messages import InboundMessage, OutboundMessage, SendContext, SendResult


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
