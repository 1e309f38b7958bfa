"""Command menus per role and language, for chat apps that show one (Telegram's "/" menu).

Data-driven: a command is in a menu when its roles include one the person holds and
the content has a one-line description for it, `common.menu.<name>`; the menu lists them
in the order of those descriptions in the content. A new command (say a facilitator's)
appears by adding its `Command` and that message; nothing here changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.channel import NamedCommand
from bot.core.roles import GUEST, PARTICIPANT, STAFF
from content.render import Renderer

MENU_KEY = "common.menu."
# What everyone sees: someone new, or a participant.
EVERYONE = frozenset({GUEST, PARTICIPANT})

Menu = tuple[tuple[str, str], ...]  # (command name, description)


def staff_roles(roles: Iterable[str]) -> frozenset[str]:
    """The menu roles of a staff member holding `roles` (facilitator, coordinator)."""
    held = frozenset(roles)
    return held | {STAFF} if held else frozenset()


def menu_for(
    commands: Sequence[NamedCommand], roles: frozenset[str], locale: str, renderer: Renderer
) -> Menu:
    """The commands a person with `roles` may use, named and described in `locale`.

    English speakers see the English alias (/help), others the Indonesian name
    (/bantuan); both work anywhere.
    """
    entries: list[tuple[str, str]] = []
    described = [key for key in renderer.messages.get(locale, {}) if key.startswith(MENU_KEY)]
    for key in described:
        command = next(
            (c for c in commands if c.name == key[len(MENU_KEY) :] and roles & set(c.roles)),
            None,
        )
        if command is None:
            continue
        name = command.aliases[0] if locale == "en" and command.aliases else command.name
        entries.append((name, renderer.render(key, locale, {}, "plain")[:256]))
    return tuple(entries)
