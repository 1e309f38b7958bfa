"""Chat commands: Indonesian names with English aliases; on WhatsApp without the slash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bot.core.turn import Turn

Handler = Callable[[Turn, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str  # the Indonesian name, shown in help
    aliases: tuple[str, ...]
    handler: Handler
    roles: tuple[str, ...]  # who may use it: "guest", "participant", "facilitator", ...
    # A contact that sent BERHENTI may still use it (its replies go to them): the rights
    # over one's own data (/dataku, /hapus) do not stop with the messages.
    while_stopped: bool = False


def parse_command(
    text: str, *, slashless: bool, known: AbstractSet[str], answering: bool = False
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


class CommandTable:
    """The commands by name and alias. One name may have a command for participants and
    another for staff (bot/core/feature.py refuses two for the same people)."""

    def __init__(self, commands: Sequence[Command]) -> None:
        self.commands = tuple(commands)
        by_name: dict[str, list[Command]] = {}
        for command in commands:
            for name in (command.name, *command.aliases):
                by_name.setdefault(name, []).append(command)
        self._by_name = {name: tuple(found) for name, found in by_name.items()}
        self.names = frozenset(self._by_name)

    def get(self, name: str) -> Command | None:
        """The first command of that name (the one a refusal names), if any."""
        found = self._by_name.get(name)
        return found[0] if found else None

    def candidates(self, name: str) -> tuple[Command, ...]:
        return self._by_name.get(name, ())
