"""The message kinds every channel speaks. Standard library only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# What a person sent: typed text, a button press, or something the bot cannot read.
TEXT, BUTTON, MEDIA, UNSUPPORTED = "text", "button", "media", "unsupported"


@dataclass(frozen=True)
class Media:
    kind: str  # photo, document, audio, video, sticker, location, ...
    ref: str = ""  # a URL or the channel's file id
    content_type: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    address: str  # the sender on that channel: a chat id, a phone number, a console name
    external_id: str  # unique per channel; a redelivery carries the same id
    kind: str = TEXT
    text: str = ""
    button: str | None = None  # the pressed button's data, for kind BUTTON
    display_name: str | None = None
    media: tuple[Media, ...] = ()
    received_at: dt.datetime | None = None


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # "flow:step:value"; channels without buttons show a numbered list


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    buttons: tuple[Button, ...] = ()
    media: Media | None = None

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": self.text}
        if self.buttons:
            payload["buttons"] = [{"label": b.label, "data": b.data} for b in self.buttons]
        if self.media:
            payload["media"] = {
                "kind": self.media.kind,
                "ref": self.media.ref,
                "content_type": self.media.content_type,
            }
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> OutboundMessage:
        media = payload.get("media")
        return cls(
            text=str(payload.get("text", "")),
            buttons=tuple(Button(b["label"], b["data"]) for b in payload.get("buttons", [])),
            media=Media(media["kind"], media.get("ref", ""), media.get("content_type"))
            if media
            else None,
        )


@dataclass(frozen=True)
class SendResult:
    external_id: str | None = None


# Failure classes of a send, which decide what the sender does next.
RETRY = "retry"  # try again later (network, 5xx, rate limited)
PERMANENT = "permanent"  # this message can never go (bad request, chat not found)
UNREACHABLE = "unreachable"  # the person blocked the bot; stop until they write again
OPTED_OUT = "opted_out"  # the person asked for no more messages


@dataclass
class SendError(Exception):
    failure: str
    reason: str
    retry_after: float | None = None
    code: str | None = field(default=None)

    def __str__(self) -> str:
        return f"{self.failure}: {self.reason}"
