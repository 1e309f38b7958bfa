"""Messages queued as a message key and its values, rendered when they are sent.

The scheduler queues thousands of nudges in one tick, while the sender hands them to
a channel at about 30 a second. Rendering each one when it is queued would cost the
tick most of its time for text that waits minutes before anyone needs it, so a nudge's
outbox payload holds what to render instead of the text:

    {"kind": "unlock", "render": {"key": "nudges.unlock", "locale": "id",
                                  "params": {"name": "Siti", "week": 2, ...}}}

The sender renders it just before `channel.send`, in the locale chosen when it was
queued (the person's language) and the markup of the channel that sends it. The
values a WhatsApp template fills in (`vars`) come from the same params. A payload with
plain `text` (replies, broadcasts) goes as it is.

Params are JSON: strings, numbers, lists and mappings. A mapping of two-letter locales
(an answer's display per locale, `{"id": "…", "en": "…"}`) is shown in the message's
locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from content.render import Renderer

RENDER = "render"
# Kinds whose WhatsApp template carries the whole message as one value (`summary`).
SUMMARISED = ("digest", "alert")
SUMMARY_CHARS = 500


class RenderFailed(Exception):
    """A deferred message cannot be rendered (its key is gone, a value is missing):
    the row fails for good, with this as its reason."""


def deferred(key: str, locale: str, params: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The outbox payload of message `key`, to be rendered in `locale` when sent."""
    values = params if type(params) is dict else dict(params)  # no copy of a fresh dict
    return {"kind": kind, RENDER: {"key": key, "locale": locale, "params": values}}


def is_deferred(payload: Mapping[str, Any]) -> bool:
    return RENDER in payload


def resolve(payload: Mapping[str, Any], renderer: Renderer | None, markup: str) -> dict[str, Any]:
    """The payload with its text and template vars filled in, ready to send.

    Raises RenderFailed, naming the message, when it cannot be rendered.
    """
    if not is_deferred(payload):
        return dict(payload)
    spec = payload[RENDER]
    try:
        key, locale, params = str(spec["key"]), str(spec["locale"]), spec.get("params") or {}
    except (KeyError, TypeError) as error:
        raise RenderFailed(f"unreadable message to render: {error!r}") from None
    if renderer is None:
        raise RenderFailed(f"cannot render {key} ({locale}): this sender has no content")
    if not renderer.has(key, locale):
        raise RenderFailed(f"cannot render {key} ({locale}): no such message in the content")
    context: dict[str, Any] = {"name": "", "meeting_day": "", "village": "", "answers": {}}
    template_vars: dict[str, str] = {}
    for name, value in params.items():
        shown = shown_in(value, locale) if type(value) is dict else value
        context[name] = shown
        if type(shown) is str or type(shown) is int:
            template_vars[name] = str(shown)
    template_vars.setdefault("name", str(context["name"]))
    try:
        text = renderer.render(key, locale, context, markup)
    except Exception as error:  # a missing value, a broken template: this row only
        raise RenderFailed(f"cannot render {key} ({locale}): {error}"[:500]) from None
    kind = str(payload.get("kind", ""))
    if kind in SUMMARISED:
        template_vars.setdefault("summary", " ".join(text.split())[:SUMMARY_CHARS])
    resolved = {k: v for k, v in payload.items() if k != RENDER}
    resolved["text"] = text
    resolved["vars"] = template_vars
    return resolved


def shown_in(value: Any, locale: str) -> Any:
    """An answer's display per locale, as the text for this locale (quoted inside a
    sentence, so without a closing full stop of its own)."""
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(k, str) and len(k) == 2 for k in value)
    ):
        text = str(value.get(locale) or next(iter(value.values()), ""))
        return text.strip().rstrip(".!").strip()
    if isinstance(value, Mapping) and not value:
        return ""
    return value


__all__ = ["RENDER", "RenderFailed", "deferred", "is_deferred", "resolve", "shown_in"]
