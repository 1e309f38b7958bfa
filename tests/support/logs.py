"""What the logs must not hold: the people of a test, and a search of the captured records.

A test notes each person's name, number or chat id and what they typed (`Private`), runs,
and asks `leaks(records)` which records at INFO or above hold any of it, in the message
or in the traceback. Names and typed text are matched whole and case-insensitively;
numbers as the digits a log line would show (with or without + and the country code).
"""

from __future__ import annotations

import io
import logging
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.logs import JsonLines, MaskNumbers

PACKAGES = ("bot", "storage", "flows", "content")
MIN_TEXT = 8  # shorter typed words ("ya", "lanjut", "4") say nothing of the person


@dataclass
class Private:
    """Everything about the people of a test that no log line at INFO or above may hold."""

    needles: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def name(self, name: str) -> None:
        """A person's name: whole, and each of its words of four letters or more."""
        self._words("name", name)
        for word in name.split():
            if len(word) >= 4:
                self._words("name", word)

    def phrase(self, text: str) -> None:
        """A village, a profile name: matched whole only."""
        self._words("text", text)

    def typed(self, *texts: str) -> None:
        """What a person typed; words too short to say anything are left out."""
        for text in texts:
            if len(text.strip()) >= MIN_TEXT and not text.startswith(("/", ":")):
                self._words("typed", text.strip())

    def number(self, e164: str) -> None:
        """A phone number in E.164: as stored, without the +, and as written locally."""
        digits = e164.lstrip("+")
        national = digits[2:] if digits.startswith("62") else digits
        for form in sorted({digits, "0" + national, national}):
            self._digits(f"number {e164} ({form})", form)

    def chat_id(self, chat_id: int | str) -> None:
        self._digits(f"chat id {chat_id}", str(chat_id))

    def address(self, address: str) -> None:
        """A console address: a word, like a chat id is a number."""
        self._words("address", address)

    def _words(self, kind: str, text: str) -> None:
        self.needles[f"{kind} {text!r}"] = re.compile(
            rf"(?<!\w){re.escape(text)}(?!\w)", re.IGNORECASE
        )

    def _digits(self, label: str, digits: str) -> None:
        self.needles[label] = re.compile(rf"(?<!\d){re.escape(digits)}(?!\d)")

    def found_in(self, text: str) -> list[str]:
        return [label for label, needle in self.needles.items() if needle.search(text)]


def record_text(record: logging.LogRecord) -> str:
    """What a handler would write of a record: its message, traceback and stack."""
    parts = [record.getMessage()]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


def leaks(records: Iterable[logging.LogRecord], private: Private) -> list[str]:
    """Each record at INFO or above that holds something private: level, logger, what, line."""
    found = []
    for record in records:
        if record.levelno < logging.INFO:
            continue
        text = record_text(record)
        for label in private.found_in(text):
            hit = private.needles[label].search(text)
            assert hit is not None
            around = text[max(0, hit.start() - 60) : hit.end() + 30].replace("\n", " | ")
            first = text.splitlines()[0][:120] if text else ""
            found.append(f"{record.levelname} {record.name} ({first}): {label} in …{around}…")
    return found


def mentions(records: Iterable[logging.LogRecord], private: Private, level: int) -> bool:
    """Whether some record at exactly `level` names someone (the capture is live)."""
    return any(
        record.levelno == level and private.found_in(record_text(record)) for record in records
    )


def quiet_loggers() -> list[str]:
    """The project's loggers that would not reach the root's handlers."""
    wrong = []
    for name, logger in logging.root.manager.loggerDict.items():
        if not isinstance(logger, logging.Logger) or not name.startswith(PACKAGES):
            continue
        if name.split(".", 1)[0] not in PACKAGES:
            continue
        if not logger.propagate or logger.disabled:
            wrong.append(name)
    return wrong


def json_lines(records: Iterable[logging.LogRecord]) -> list[str]:
    """The records at INFO or above as `jamaah` writes them with JAMAAH_LOG_FORMAT=json
    (bot/core/logs.py's handler: numbers masked, one JSON object a line)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines())
    handler.addFilter(MaskNumbers())
    for record in records:
        if record.levelno >= logging.INFO:  # a logger checks the level, handle() does not
            handler.handle(record)
    return out.getvalue().splitlines()
