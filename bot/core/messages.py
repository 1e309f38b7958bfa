"""The message kinds every channel speaks. Standard library only."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

# What text from outside may hold that no store of ours can: U+0000 (PostgreSQL's text
# and jsonb refuse it; SQLite keeps it, so the two databases would differ), the other C0
# controls but tab, line feed and carriage return, and U+FFFE/U+FFFF (an XLSX export and
# the PDF refuse them), all removed; a lone surrogate (JSON's "\ud800" decodes to one) has
# no UTF-8 form, so neither database takes it: it becomes U+FFFD. Everything else stays
# exactly as typed, emoji and line breaks included.
_REMOVED = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_SURROGATE = "[\ud800-\udfff]"
_UNSTORABLE = re.compile(f"{_REMOVED}|{_SURROGATE}")


def storable(text: str) -> str:
    """Text from outside as every database and document can hold it (see _UNSTORABLE).

    The one gate: the inbound message model applies it to everything a channel or the
    console hands in (`InboundMessage`, `Media`), and CSV import to its file."""
    if _UNSTORABLE.search(text) is None:
        return text
    return re.sub(_REMOVED, "", re.sub(_SURROGATE, "\ufffd", text))


def _storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable(text)


# What a person sent: typed text, a button press, or something the bot cannot read.
TEXT, BUTTON, MEDIA, UNSUPPORTED = "text", "button", "media", "unsupported"
EDIT = "edit"  # the Media kind of an UNSUPPORTED message that edits an earlier one


@dataclass(frozen=True)
class Media:
    kind: str  # photo, document, audio, video, sticker, location, ...
    ref: str = ""  # a URL or the channel's file id
    content_type: str | None = None

    def __post_init__(self) -> None:  # text from outside: see `storable`
        object.__setattr__(self, "kind", storable(self.kind))
        object.__setattr__(self, "ref", storable(self.ref))
        object.__setattr__(self, "content_type", _storable_or_none(self.content_type))


# A Media.ref naming a file kept in the `documents` table: "doc:<token>". A channel that
# fetched a received file itself (WhatsApp), or the inbound side that copied one
# (bot/core/files.py), hands it on this way.
STORED_FILE = "doc:"


def stored_file_ref(token: str) -> str:
    return STORED_FILE + token


def stored_file_token(ref: str) -> str | None:
    """The documents token a ref names, or None when it is a channel's own reference."""
    return ref[len(STORED_FILE) :] if ref.startswith(STORED_FILE) else None


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

    def __post_init__(self) -> None:
        # Everything a channel or the console hands in passes here, `dataclasses.replace`
        # too: nothing a database or a document cannot hold goes further (see `storable`).
        for field_name in ("channel", "address", "external_id", "kind", "text"):
            object.__setattr__(self, field_name, storable(getattr(self, field_name)))
        object.__setattr__(self, "button", _storable_or_none(self.button))
        object.__setattr__(self, "display_name", _storable_or_none(self.display_name) or None)


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # "flow:step:value"; channels without buttons show a numbered list


# What an outbound message is, which decides how a channel may send it: an interactive
# reply goes out as it is; the other kinds may need an approved template outside
# WhatsApp's 24-hour window (the kind names the template).
REPLY, UNLOCK, REMINDER, MEETING, DIGEST, ALERT, BROADCAST = (
    "reply",
    "unlock",
    "reminder",
    "meeting",
    "digest",
    "alert",
    "broadcast",
)


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    buttons: tuple[Button, ...] = ()
    media: Media | None = None
    kind: str = REPLY
    # Plain-text values a template for this kind may fill in (name, facilitator, goal, ...).
    vars: dict[str, str] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": self.text}
        if self.kind != REPLY:
            payload["kind"] = self.kind
        if self.vars:
            payload["vars"] = dict(self.vars)
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
            kind=str(payload.get("kind", REPLY)),
            vars={str(k): str(v) for k, v in (payload.get("vars") or {}).items()},
        )


@dataclass(frozen=True)
class SendContext:
    """What a channel may need to know about a delivery beyond the message itself."""

    now: dt.datetime  # the sender's clock: nothing reads the wall clock directly
    last_inbound_at: dt.datetime | None = None  # the contact's last message to us
    outbox_id: int | None = None


@dataclass(frozen=True)
class SendResult:
    external_id: str | None = None


# Failure classes of a send, which decide what the sender does next.
RETRY = "retry"  # try again later (network, 5xx, rate limited)
PERMANENT = "permanent"  # this message can never go (bad request, chat not found)
UNREACHABLE = "unreachable"  # the person blocked the bot; stop until they write again
OPTED_OUT = "opted_out"  # the person asked for no more messages
HELD = "held"  # cannot go now and should not be retried (WhatsApp: no template for the kind)


@dataclass
class SendError(Exception):
    """A send that failed. `retry_after` (seconds) marks a refusal for rate (a 429, or our
    own pacing of a group): the channel said when to come back, and the message is not at
    fault, so it never counts as one of the message's attempts."""

    failure: str
    reason: str
    retry_after: float | None = None
    code: str | None = field(default=None)

    def __str__(self) -> str:
        return f"{self.failure}: {self.reason}"

    @property
    def rate_limited(self) -> bool:
        return self.failure == RETRY and self.retry_after is not None
