"""The inbound log (storage/inbound_log.py): each channel message is handled once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import inbound_log

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


async def test_inbound_is_recorded_once(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        assert await inbound_log.record_inbound(conn, channel="telegram", external_id="7", now=NOW)
        assert not await inbound_log.record_inbound(
            conn, channel="telegram", external_id="7", now=NOW
        )
        assert await inbound_log.record_inbound(conn, channel="whatsapp", external_id="7", now=NOW)
