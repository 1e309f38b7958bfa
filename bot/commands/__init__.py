"""Chat commands: Indonesian names with English aliases; on WhatsApp without the slash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.turn import Turn

Handler = Callable[[Turn, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str  # the Indonesian name, shown in help
    aliases: tuple[str, ...]
    handler: Handler
    roles: tuple[str, ...]  # who may use it: "guest", "participant", "facilitator", ...


def parse_command(
    text: str, *, slashless: bool, known: set[str], answering: bool = False
) -> tuple[str, str] | None:
    """('name', 'args') when `text` is a command, else None.

    '/mulai ABC' and '/start@JamaahBot ABC' are commands everywhere. Where commands work
    without the slash, 'mulai ABC' is one too when its first word is known; but while a
    question is open (`answering`) only the bare word is, so that an answer such as
    "Bahasa Inggris" or "Mulai jualan online" stays an answer.
    """
    stripped = text.strip()
    if not stripped:
        return None
    head, _, rest = stripped.partition(" ")
    if head.startswith("/"):
        name = head[1:].split("@", 1)[0].lower()
        return (name, rest.strip()) if name else None
    if slashless and head.lower() in known and len(rest) <= 64 and not (answering and rest):
        return head.lower(), rest.strip()
    return None
