"""/checkin: meetings, visits and calls, and their follow-ups (helper checkin)."""

from __future__ import annotations

from bot.commands import Command

COMMANDS: tuple[Command, ...] = ()
