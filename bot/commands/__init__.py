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


def parse_command(text: str, *, slashless: bool, known: set[str]) -> tuple[str, str] | None:
    """('name', 'args') when `text` is a command, else None.

    '/mulai ABC' and '/start@JamaahBot ABC' are commands everywhere; on channels where
    commands work without the slash, 'mulai ABC' is one too when its first word is known.
    """
    stripped = text.strip()
    if not stripped:
        return None
    head, _, rest = stripped.partition(" ")
    if head.startswith("/"):
        name = head[1:].split("@", 1)[0].lower()
        return (name, rest.strip()) if name else None
    if slashless and head.lower() in known and len(rest) <= 64:
        return head.lower(), rest.strip()
    return None
