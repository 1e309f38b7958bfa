"""The console channel: people typing in a terminal or a script, for demos and tests.

Output is made for diffing: `→ NAME: text`, further lines of the message indented by
two spaces, and each button as an indented `[1] label` line.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any, TextIO

from bot.core.channel import Capabilities
from bot.core.messages import TEXT, InboundMessage, OutboundMessage, SendContext, SendResult

CONSOLE = "console"


class ConsoleChannel:
    name = CONSOLE
    capabilities = Capabilities(
        max_text=4000,
        buttons=False,
        media=False,
        templates=False,
        markup="plain",
        rate_per_s=1000.0,
        per_chat_per_s=1000.0,
    )

    def __init__(self, out: TextIO | None = None, run_id: str = "") -> None:
        self.out = out if out is not None else sys.stdout
        self._ids = itertools.count(1)
        self._run_id = run_id
        self._sent = itertools.count(1)

    def parse(self, raw: Any) -> InboundMessage:
        """`raw` is (name, text) or (name, text, external_id)."""
        name, text, *rest = raw
        external_id = rest[0] if rest else f"{self._run_id}{next(self._ids)}"
        return InboundMessage(
            channel=CONSOLE,
            address=str(name),
            external_id=str(external_id),
            kind=TEXT,
            text=str(text),
            display_name=str(name),
        )

    async def send(
        self, address: str, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        self.out.write(format_message(address, message))
        self.out.flush()
        return SendResult(external_id=f"console-{next(self._sent)}")


def format_message(address: str, message: OutboundMessage) -> str:
    lines = message.text.split("\n") if message.text else [""]
    out = [f"→ {address}: {lines[0]}"]
    out += [f"  {line}" if line else "" for line in lines[1:]]
    out += [f"  [{i}] {button.label}" for i, button in enumerate(message.buttons, start=1)]
    if message.media is not None:  # the console cannot show a file: say that it is there
        kind = message.media.content_type or message.media.kind
        out.append(f"  📎 {message.media.kind} ready ({kind})")
    return "\n".join(out) + "\n"
