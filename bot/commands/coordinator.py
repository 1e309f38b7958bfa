"""/progres for staff, /peserta, /ekspor: the coordinators' views (helper progres)."""

from __future__ import annotations

from bot.commands import Command

COMMANDS: tuple[Command, ...] = ()
