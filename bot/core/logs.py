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
"""

from __future__ import annotations

import logging

from bot.core.phones import mask_numbers

FORMAT = "%(levelname)s %(name)s: %(message)s"
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


def configure(level: str) -> None:
    """Log to standard error at `level` (DEBUG, INFO, ...), numbers masked at INFO and above."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskNumbers) for f in handler.filters):
            handler.addFilter(MaskNumbers())
