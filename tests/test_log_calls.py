"""No log call at INFO or above writes a person's address, name or words unmasked, read
from the source (tests/support/log_calls.py), and a checker that fails on the slips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.log_calls import unmasked, unmasked_in

ROOT = Path(__file__).resolve().parent.parent


def test_no_log_call_writes_personal_data_unmasked() -> None:
    found = unmasked_in(ROOT)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        'log.info("sent to %s", message.address)',
        'log.warning("menu of %s: %s", address, error)',
        'log.error(f"{person.name} could not be reached")',
        'log.exception("handling %r failed", message.text)',
        'logging.warning("joined: %s", display_name)',
        'self.log.info("to %s", to)',
        'log.log(logging.WARNING, "village %s", row.village)',
        'log.info("failed: %s", str(error))',
        'log.info("%s", " ".join(names))',
    ],
)
def test_the_checker_catches_personal_data_in_a_log_call(line: str) -> None:
    assert unmasked(line, "x.py"), line


@pytest.mark.parametrize(
    "line",
    [
        'log.info("whatsapp: sent %s to %s", sid, mask_phone(to))',
        'log.warning("could not fetch a file: %s", type(error).__name__)',
        'log.warning("Telegram call failed (%s)", mask_numbers(str(error)))',
        'log.warning("a photo of %d bytes was not kept", len(data))',
        'log.debug("from %s: %s", message.address, message.text)',  # DEBUG may hold them
        'log.log(logging.DEBUG, "to %s", to)',
        'log.exception("delivering outbox %s failed", row.id)',
        'log.info("person %s at %s/%s", person_id, flow_id, step_id)',
        'print("not a log:", message.text)',
    ],
)
def test_the_checker_lets_ids_kinds_sizes_and_masked_values_through(line: str) -> None:
    assert unmasked(line, "x.py") == [], line
