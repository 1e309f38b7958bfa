"""/siaran (/broadcast): facilitator broadcasts and their status (helper siaran)."""

from __future__ import annotations

from bot.commands import Command

COMMANDS: tuple[Command, ...] = ()
