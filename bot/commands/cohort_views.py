"""/kelompok, /tertinggal, /tinjau: a facilitator's views of their cohort (helper checkin)."""

from __future__ import annotations

from bot.commands import Command

COMMANDS: tuple[Command, ...] = ()
