"""What a feature declares, and the one place those declarations are put together.

A feature is a folder under bot/features/ whose package exports one `Feature`: its chat
commands, staff dialogs, periodic jobs, the flows' actions it carries out, the turn hooks
it fills (a week finished, an answer changed) and the message keys its code says (the
content check insists on each, so a missing text fails at start-up, not in a chat).
Features never import each other; the composition root (bot/app.py) lists them once and
`assemble` makes of them what the layers below take.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.commands import Command
from bot.core.jobs import Job
from bot.core.turn import Action, AnswerEdited, DialogHandler, Turn, TurnHooks, WeekDone

# Routing's hooks (the order they are asked in is bot/inbound/routing.py's):
Greeting = Callable[[Turn], Awaitable[bool]]  # True when it answered this message
TypedCode = Callable[[Turn, str], Awaitable[bool]]  # a code typed on its own; True if taken
Answer = Callable[[Turn], Awaitable[None]]


@dataclass(frozen=True)
class RouteHooks:
    """What the routing asks the features, at fixed points of its order.

    - `greetings`: a first message from someone who has joined nothing and has nothing
      open (a participant pre-registered by an import is asked their consent);
    - `typed_codes`: text that is no command and no answer (a staff invite code);
    - `outsider`: anyone else (how to join, or a staff greeting);
    - `first`: asked before anything but the opt-out gate, for everyone (a participant
      who agreed to an older privacy text is asked to agree to the new one). Keep it to
      what the turn already knows: it runs for every message.
    """

    greetings: tuple[Greeting, ...] = ()
    typed_codes: tuple[TypedCode, ...] = ()
    outsider: Answer | None = None
    first: tuple[Greeting, ...] = ()


@dataclass(frozen=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    dialogs: tuple[DialogHandler, ...] = ()
    jobs: tuple[Job, ...] = ()
    actions: Mapping[str, Action] = field(default_factory=dict)
    week_done: tuple[WeekDone, ...] = ()
    answer_edited: tuple[AnswerEdited, ...] = ()
    greetings: tuple[Greeting, ...] = ()
    typed_codes: tuple[TypedCode, ...] = ()
    idle: Answer | None = None
    outsider: Answer | None = None
    first: tuple[Greeting, ...] = ()
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assembly:
    """The features, put together: what the dispatcher, scheduler and content check take."""

    features: tuple[Feature, ...]
    commands: tuple[Command, ...]
    hooks: TurnHooks
    routes: RouteHooks
    jobs: tuple[Job, ...]
    messages: tuple[str, ...]


class DeclarationError(ValueError):
    """Two features declare the same thing: a programming error, found at start-up."""


def assemble(features: Sequence[Feature], *, messages: Iterable[str] = ()) -> Assembly:
    """Put the features' declarations together, refusing a name declared twice.

    One command name may be declared by two features for different people (the
    participants' /progres and the staff's): the routing picks by who asks. The same
    name for the same people twice is refused, as is a dialog or action declared twice.
    """
    actions: dict[str, Action] = {}
    dialogs: dict[str, DialogHandler] = {}
    audiences: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for feature in features:
        for name, action in feature.actions.items():
            if name in actions:
                raise DeclarationError(f"action {name!r} declared twice ({feature.name})")
            actions[name] = action
        for dialog in feature.dialogs:
            if dialog.name in dialogs:
                raise DeclarationError(f"dialog {dialog.name!r} declared twice ({feature.name})")
            dialogs[dialog.name] = dialog
        for command in feature.commands:
            roles = frozenset(command.roles)
            for name in (command.name, *command.aliases):
                for other, held in audiences.setdefault(name, []):
                    if held & roles:
                        raise DeclarationError(
                            f"command {name!r} of {feature.name} and {other} overlap in "
                            f"who may use it ({sorted(held & roles)})"
                        )
                audiences[name].append((feature.name, roles))
    idle = [f for f in features if f.idle is not None]
    outsider = [f for f in features if f.outsider is not None]
    for what, found in (("idle", idle), ("outsider", outsider)):
        if len(found) > 1:
            raise DeclarationError(f"{what} declared by {', '.join(f.name for f in found)}")
    routes = RouteHooks(
        greetings=tuple(hook for f in features for hook in f.greetings),
        typed_codes=tuple(hook for f in features for hook in f.typed_codes),
        outsider=outsider[0].outsider if outsider else None,
        first=tuple(hook for f in features for hook in f.first),
    )
    hooks = TurnHooks(
        actions=actions,
        week_done=tuple(hook for f in features for hook in f.week_done),
        answer_edited=tuple(hook for f in features for hook in f.answer_edited),
        dialogs=dialogs,
        idle=idle[0].idle if idle else None,
    )
    return Assembly(
        features=tuple(features),
        commands=tuple(c for f in features for c in f.commands),
        hooks=hooks,
        routes=routes,
        jobs=tuple(job for f in features for job in f.jobs),
        messages=(*messages, *(key for f in features for key in f.messages)),
    )
