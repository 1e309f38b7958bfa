"""Multi-step chat dialogs for staff: /siaran, /checkin, /tinjau and the like.

A dialog is a small state machine in code (not a content flow): its state lives in the
`dialogs` table, one open dialog per person, so that it survives a restart and the
programme's silence ladder never sees it. Buttons carry `staff_<name>:<step>:<value>`;
where a channel has no buttons (WhatsApp, the console), a typed number or the button's
words pick the same option. "batal" / "cancel" (or `/batal`) closes the open dialog.

Typed words are matched once, here, for every dialog (`on_text`): an option by its number,
its label or a word of it, or a word that names it (`OPTION_WORDS`, and a dialog's own
`words`), as people write them ("kirim aja", "jadwalkan", "send"). A step where typed text
is content (the broadcast's words, a note) says so with `takes_text`; there only a number,
a whole label or an option word chooses, and the rest goes to the dialog. At every other
step nothing typed becomes content: what names no option gets the options again, and what
names two or three asks which one was meant.

A dialog subclasses `Dialog` and sets `name`; its feature lists an instance in its
declaration (bot/core/feature.py) and the composition root hands them to every turn
(`turn.hooks.dialogs`). The routing calls `text`, `button` or `media` inside the turn's
one transaction; they speak through the turn and keep their state with `save` / `close`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bot.core.channel import button_digest
from bot.core.messages import Media
from bot.core.turn import Turn
from flows.answers import FILLERS, AnswerError, parse_choice
from flows.effects import Button as FlowButton
from storage import dialogs as dialogs_store

log = logging.getLogger(__name__)

PREFIX = "staff_"  # button data: "staff_<name>:<step>:<value>"
EXPIRES = dt.timedelta(hours=12)  # an abandoned dialog is forgotten after this
CANCEL_WORDS = frozenset(
    {"batal", "cancel", "/batal", "/cancel", "batalkan", "gak jadi", "ga jadi", "tidak jadi"}
)
# Words that name an option, by its value, in every dialog that offers one of that value
# (both languages: a facilitator may write either).
OPTION_WORDS: dict[str, tuple[str, ...]] = {
    "send": ("kirim", "kirimkan", "kirim sekarang", "sekarang", "send", "send now"),
    "schedule": ("jadwalkan", "jadwal", "nanti", "schedule", "later"),
    "cancel": ("batal", "batalkan", "cancel"),
    "edit": ("ubah", "ganti", "edit", "change", "ubah pesan", "ganti pesan", "ubah teks"),
    "skip": ("lewati", "skip", "tidak ada", "gak ada", "ga ada", "nggak ada", "tidak", "no", "-"),
    "none": ("tidak perlu", "gak perlu", "tidak ada", "gak ada", "ga ada", "nggak ada", "-"),
    "all": ("semua", "semuanya", "semua hadir", "all", "everyone"),
}
OFFERED = "_offered"  # in the state: [[value, label], ...] of the last buttons shown
OFFERED_AT = "_offered_at"  # ... and the step they were shown at
MESSAGES: tuple[str, ...] = (
    "staff.dialog.choose",
    "staff.dialog.which",
    "staff.dialog.text_please",
    "staff.dialog.stale",
    "staff.dialog.cancelled",
)


@dataclass
class DialogState:
    name: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: dt.datetime | None = None

    def offered(self) -> list[tuple[str, str]]:
        """The buttons shown with the last question, if it was asked at this step."""
        if self.data.get(OFFERED_AT, self.step) != self.step:
            return []
        return [(str(v), str(label)) for v, label in self.data.get(OFFERED, [])]


class Dialog:
    """One kind of dialog. Override `text` and `button`; `media` if it takes photos."""

    name: ClassVar[str]
    # Open to a contact that sent BERHENTI (a dialog of a `while_stopped` command).
    while_stopped: ClassVar[bool] = False
    # Words naming an option at a step, besides its label and OPTION_WORDS:
    # {step: {value: words}}.
    words: ClassVar[dict[str, dict[str, tuple[str, ...]]]] = {}

    def takes_text(self, step: str) -> bool:
        """Whether typed text at `step` may be content (words, a note, a date): then only
        a number, a whole label or an option word picks an option. By default a step
        that offers options takes none."""
        return False

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        raise NotImplementedError

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        raise NotImplementedError

    async def media(self, turn: Turn, state: DialogState, media: Sequence[Media]) -> None:
        """A photo or file sent while the dialog is open: by default, ask for words."""
        await turn.say("staff.dialog.text_please")
        await repeat(turn, state)

    def claims(self, step: str, text: str) -> bool:
        """True when `text` at `step` is this dialog's answer even though it reads as a
        command (on WhatsApp the word HAPUS is also the command /hapus)."""
        return False

    def passes_photos_on(self, step: str) -> bool:
        """Whether a photo sent at `step` goes on to other people (a broadcast's): then
        the dispatcher has a copy fetched first (`copy_photos`)."""
        return False


# --- state -------------------------------------------------------------------------


async def current(turn: Turn) -> DialogState | None:
    """The person's open dialog, if any and not expired (an expired one is removed)."""
    row = await dialogs_store.get_dialog(turn.conn, person_id=turn.person_id)
    if row is None:
        return None
    if row.name not in turn.hooks.dialogs or turn.now - row.updated_at >= EXPIRES:
        await close(turn)
        return None
    return DialogState(row.name, row.step, dict(row.state or {}), row.updated_at)


async def open_dialog(
    turn: Turn, name: str, step: str, data: dict[str, Any] | None = None
) -> DialogState:
    """Start dialog `name` at `step` (replacing any open one) and keep it."""
    state = DialogState(name, step, dict(data or {}), turn.now)
    await save(turn, state)
    return state


async def save(turn: Turn, state: DialogState) -> None:
    state.updated_at = turn.now
    await dialogs_store.save_dialog(
        turn.conn,
        person_id=turn.person_id,
        name=state.name,
        step=state.step,
        state=state.data,
        now=turn.now,
    )


async def close(turn: Turn) -> None:
    await dialogs_store.delete_dialog(turn.conn, person_id=turn.person_id)


# --- speaking ----------------------------------------------------------------------


async def ask(
    turn: Turn,
    state: DialogState,
    key: str,
    params: dict[str, Any] | None = None,
    options: Sequence[tuple[str, str]] = (),
) -> None:
    """Say message `key` with a button per (value, label) and keep the state.

    The options are remembered, so a typed number ("2") or the label's words pick one
    on channels without buttons. Labels are data (names, cohort names): shown literally.
    Keep values short (Telegram allows 64 bytes of button data in all).
    """
    state.data[OFFERED] = [[value, label] for value, label in options]
    state.data[OFFERED_AT] = state.step
    state.data["_ask"] = [key, params or {}]
    buttons = [FlowButton(value=value, label={turn.locale: label}) for value, label in options]
    await turn.say(key, params or {}, buttons, step=state.step, flow=PREFIX + state.name)
    await save(turn, state)


async def repeat(turn: Turn, state: DialogState) -> None:
    """Ask the dialog's last question again (after an answer that did not fit)."""
    asked = state.data.get("_ask")
    if not asked:
        return
    key, params = asked
    await ask(turn, state, str(key), dict(params), state.offered())


class Ambiguous(Exception):
    """A typed reply names several offered options: ask which (their labels)."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(", ".join(labels))
        self.labels = labels


def pick(
    state: DialogState,
    text: str,
    words: Mapping[str, tuple[str, ...]] | None = None,
    *,
    strict: bool = False,
) -> str | None:
    """The offered value a typed reply chooses (None: it names none).

    By its number, its label, a word of the label or an option word (`OPTION_WORDS`, and
    `words` by value); `strict` (a step that takes text): a number, a whole label or an
    option word only. Raises `Ambiguous` when the words name two or three options.
    """
    offered = state.offered()
    if not offered:
        return None
    synonyms = {v: OPTION_WORDS.get(v, ()) + (words or {}).get(v, ()) for v, _ in offered}
    options = [(value, {"label": label}) for value, label in offered]
    if strict:
        typed = " ".join(text.strip().lower().split())
        if typed.isdigit() and 1 <= int(typed) <= len(offered):
            return offered[int(typed) - 1][0]
        exact = [
            value
            for value, label in offered
            if typed == " ".join(label.lower().split()) or typed in synonyms[value]
        ]
        return exact[0] if len(exact) == 1 else None
    try:
        return parse_choice(text, options, synonyms, by_value=False)
    except AnswerError as error:
        if error.code == "choice_ambiguous":
            labels = dict(offered)
            raise Ambiguous(
                [labels[str(v)] for v in error.params.get("candidates", [])]  # type: ignore[attr-defined]
            ) from None
        return None


def undigest(state: DialogState, digest: str) -> str | None:
    """The button data behind a shortened one (Telegram's 64-byte limit)."""
    for value, _label in state.offered():
        data = f"{PREFIX}{state.name}:{state.step}:{value}"
        if button_digest(data) == digest:
            return data
    return None


# --- routing (called by bot/inbound/routing.py) -------------------------------------------------


async def on_button(turn: Turn, state: DialogState | None, data: str) -> None:
    """A pressed dialog button: to its dialog when it is the open one at that step."""
    flow_id, _, rest = data.partition(":")
    step, _, value = rest.partition(":")
    name = flow_id[len(PREFIX) :]
    if state is None or state.name != name or state.step != step:
        await turn.say("staff.dialog.stale")
        if state is not None:
            await repeat(turn, state)
        return
    await turn.hooks.dialogs[name].button(turn, state, step, value)


def is_cancel(text: str) -> bool:
    """ "batal", "/batal", "cancel", and the same with a filler ("batal aja kak")."""
    words = text.strip().lower().split()
    kept = [w for w in words if w not in FILLERS] or words
    return " ".join(words) in CANCEL_WORDS or " ".join(kept) in CANCEL_WORDS


async def on_text(turn: Turn, state: DialogState, text: str) -> None:
    """Typed text while a dialog is open: cancel, a picked option, or the dialog's own."""
    if is_cancel(text):
        await close(turn)
        await turn.say("staff.dialog.cancelled")
        return
    dialog = turn.hooks.dialogs[state.name]
    takes_text = dialog.takes_text(state.step)
    try:
        chosen = pick(state, text, dialog.words.get(state.step), strict=takes_text)
    except Ambiguous as which:
        await turn.say("staff.dialog.which", {"options": which.labels})
        await repeat(turn, state)
        return
    if chosen is not None:
        await dialog.button(turn, state, state.step, chosen)
        return
    if state.offered() and not takes_text:
        labels = [label for _value, label in state.offered()]
        await turn.say("staff.dialog.choose", {"options": labels[:6], "more": len(labels) > 6})
        await repeat(turn, state)
        return
    await dialog.text(turn, state, text)
