"""What the engine asks the application to do. Plain data; the dispatcher applies them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """A reply option. `label` is text per locale, or `label_key` names a message."""

    value: str
    label: Mapping[str, str] | None = None
    label_key: str | None = None


@dataclass(frozen=True)
class Say:
    """Send the message `key`, rendered with `params`, offering `buttons` for `step`."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    step: str | None = None


@dataclass(frozen=True)
class SaveAnswer:
    key: str
    value: Any
    display: Mapping[str, str]


@dataclass(frozen=True)
class CompleteModule:
    flow: str
    week: int


@dataclass(frozen=True)
class RunAction:
    """Carry out `name`, then tell the engine how it went (`ActionDone`)."""

    name: str


@dataclass(frozen=True)
class EndFlow:
    next_flow: str | None = None


Effect = Say | SaveAnswer | CompleteModule | RunAction | EndFlow
