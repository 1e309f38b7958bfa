"""Key-value settings (storage/system_state.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import system_state


async def test_system_state_round_trips(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        assert await system_state.get_value(conn, key="clock") is None
        await system_state.set_value(conn, key="clock", value="2027-01-04T01:00:00+00:00")
        await system_state.set_value(conn, key="clock", value="2027-01-06T01:00:00+00:00")
        assert await system_state.get_value(conn, key="clock") == "2027-01-06T01:00:00+00:00"
