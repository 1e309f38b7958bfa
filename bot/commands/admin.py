"""Admin and invites: redeeming an invite code, managing staff (helper staffcore)."""

from __future__ import annotations

from bot.commands import Command

COMMANDS: tuple[Command, ...] = ()
