"""Delivery reports: a channel's later word on a message it sent, applied to the outbox.

The channel adapter parses the report (Twilio's status callback) into a `DeliveryReport`
(bot/core/channel.py) with its failure class; what happens to the outbox row then is
decided here, with the sender's own retry rules (`MAX_ATTEMPTS`, `backoff`):

- progress (queued, sent, delivered, read) is noted unless the row knows more already;
- OPTED_OUT: the contact is marked opted out, the row skipped;
- HELD (outside WhatsApp's window): a kind with an approved template goes again as that
  template, anything else (a reply) is held;
- RETRY: sent again after the backoff, while attempts remain;
- anything else: failed.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import DeliveryReport, Registry, UnknownChannel, WindowedChannel
from bot.core.clock import Clock
from bot.core.messages import HELD, OPTED_OUT, RETRY
from bot.outbound.sender import MAX_ATTEMPTS, backoff
from storage import repo

log = logging.getLogger(__name__)


async def apply_report(
    db: AsyncEngine, channels: Registry, clock: Clock, report: DeliveryReport
) -> bool:
    """Apply `report`; True when the message was queued to go again (wake the sender)."""
    now = clock.now()
    state, code = report.state, report.code
    async with db.begin() as conn:
        row = await repo.outbox_by_external_id(conn, external_id=report.external_id)
        if row is None:
            return False  # not ours, or a message of an earlier database
        if state not in repo.DELIVERY_FAILED:
            old = repo.DELIVERY_RANK.get(row.delivery_status or "", -1)
            if row.delivery_status in repo.DELIVERY_FAILED or (
                repo.DELIVERY_RANK.get(state, -1) < old
            ):
                return False  # a late callback: the row knows more already
            await repo.record_delivery(
                conn, outbox_id=row.id, delivery_status=state, at=now, error_code=code
            )
            return False
        # Failed or undelivered: the failure class decides what happens next.
        failure = report.failure
        status, error, retry_at = "failed", f"{state}: {report.channel} error {code}", None
        if failure == OPTED_OUT:
            await repo.set_opted_out(conn, contact_id=row.contact_id, opted_out=True)
            status = "skipped"
        elif failure == HELD:
            if row.attempts < MAX_ATTEMPTS and _resend_as_template(
                channels, report.channel, row.kind, row.address
            ):
                status, retry_at = "pending", now
            else:
                status = "held"
                error = f"{state}: outside the channel's messaging window ({code})"
        elif failure == RETRY and row.attempts < MAX_ATTEMPTS:
            status, retry_at = "pending", now + backoff(row.attempts)
        await repo.record_delivery(
            conn,
            outbox_id=row.id,
            # A message sent again starts its delivery story afresh (the code stays).
            delivery_status=None if status == "pending" else state,
            at=now,
            error_code=code,
            status=status,
            error=error,
            next_attempt_at=retry_at,
        )
    log.info(
        "outbox: message %s %s (%s)",
        report.external_id,
        state,
        code,
        extra={"sid": report.external_id},
    )
    return status == "pending"


def _resend_as_template(channels: Registry, channel: str, kind: str, address: str) -> bool:
    try:
        adapter = channels.get(channel)
    except UnknownChannel:
        return False
    return isinstance(adapter, WindowedChannel) and adapter.resend_as_template(kind, address)
