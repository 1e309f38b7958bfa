"""`jamaah run`'s supervision of its long tasks: a task that fails is started again; one
that keeps failing, or a channel's receiver that ends, stops the process; /healthz tells
a channel that hears nobody."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot import serve as serve_module
from bot.app import App
from bot.core.channel import ChannelRuntime
from bot.core.config import Settings
from bot.core.health import Health
from bot.web import build_web


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


async def run_with(
    app: App, monkeypatch: pytest.MonkeyPatch, runtime: ChannelRuntime, stop: asyncio.Event
) -> asyncio.Task[None]:
    async def fake_start(app: App, settings: Settings) -> list[ChannelRuntime]:
        return [runtime]

    monkeypatch.setattr(serve_module, "start_channels", fake_start)
    monkeypatch.setattr(serve_module, "RESTART_FIRST_S", 0.01)
    return asyncio.create_task(serve_module.serve(app, settings(), stop))


async def test_a_task_that_fails_is_started_again(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = 0

    async def poll() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise TypeError("an update it could not read")
        await asyncio.sleep(3600)

    stop = asyncio.Event()
    task = await run_with(app, monkeypatch, ChannelRuntime(tasks=[poll], name="x"), stop)
    for _ in range(300):
        if runs >= 3:
            break
        await asyncio.sleep(0.01)
    assert runs == 3 and not task.done()  # failed twice, runs again, the process lives
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_task_that_keeps_failing_stops_the_process(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise TypeError("always")

    stop = asyncio.Event()
    task = await run_with(app, monkeypatch, ChannelRuntime(tasks=[broken], name="x"), stop)
    with pytest.raises(RuntimeError, match="failed 6 times"):
        await asyncio.wait_for(task, 10)


async def test_a_receiver_that_ends_stops_the_process(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def poll() -> None:
        return  # a refused token: it says so, and polls no more

    stop = asyncio.Event()
    runtime = ChannelRuntime(tasks=[poll], receiver=poll, name="telegram")
    task = await run_with(app, monkeypatch, runtime, stop)
    with pytest.raises(RuntimeError, match="through which its channel hears people"):
        await asyncio.wait_for(task, 5)


async def test_healthz_reports_a_channel_whose_receiver_is_not_running(app: App) -> None:
    health = Health(tasks={"telegram.0": "running"}, receivers={"telegram": "telegram.0"})
    web = build_web(app, health=health)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://test"
    ) as client:
        assert (await client.get("/healthz")).status_code == 200
        health.set("telegram.0", "restarting")
        answer = await client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["dead_channels"] == ["telegram"]
