"""What the bot's log lines hold, and the handler `jamaah` writes them with.

At INFO and above a line names things by their ids (person 12, outbox 345, cohort
TRITIS-01, a Twilio SID), never by a phone number, a chat id, a name or what someone
typed; a number that must be shown is masked (bot/core/phones.py). DEBUG may hold
more: it is for a developer at a desk, not for a running bot.

`MaskNumbers` is the net under that rule for what the code does not write itself: an
error of a channel or of the database that quotes a number or a chat id ("The 'To'
number whatsapp:+62857… is not valid", "Key (address)=(73…) already exists"), in the
message or in a traceback. On the handler `jamaah` logs through, it masks every such
number in each record at INFO or above before the record is written.

`JAMAAH_LOG_FORMAT=json` writes each record as one JSON object a line (`JsonLines`):
the time (UTC), level, logger and event (the message, masked as above), the traceback
when there is one, and the ids a call names with `extra=` (`IDS`: outbox id, cohort
code, update id, ...), for a log collector to search by. Nothing else of the record is
written: no argument, no local, nothing a person typed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from bot.core.phones import mask_numbers

FORMAT = "%(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
# The ids a log call may give as `extra=` (`log.info("...", x, extra={"outbox_id": x})`)
# and a JSON line carries as fields of their own. Ids only: never a name, number or text.
IDS = (
    "outbox_id",
    "cohort",
    "update_id",
    "message_id",
    "channel",
    "person_id",
    "contact_id",
    "broadcast_id",
    "sid",
)
_TRACEBACKS = logging.Formatter()


class MaskNumbers(logging.Filter):
    """Masks the phone numbers and chat ids in a record at INFO or above, traceback too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return True
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_numbers(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, event, the ids given, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key in IDS:
            found = record.__dict__.get(key)
            if isinstance(found, str | int) and not isinstance(found, bool):
                line[key] = found
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, fmt: str = "text") -> None:
    """Log to standard error at `level` (DEBUG, INFO, ...), numbers masked at INFO and above,
    as plain text lines or (`fmt` "json") one JSON object a line."""
    if fmt not in FORMATS:
        raise ValueError(f"JAMAAH_LOG_FORMAT: {fmt!r} is not one of {', '.join(FORMATS)}")
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskNumbers) for f in handler.filters):
            handler.addFilter(MaskNumbers())
        if fmt == "json":
            handler.setFormatter(JsonLines())
