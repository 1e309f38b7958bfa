"""`jamaah run`: the bot's main job.

Opens the application, starts each configured channel (Telegram, WhatsApp), the
outbox sender, the scheduler and, when a channel needs one, the web server (when none
does, `metrics_port` still starts it, for /metrics and /healthz). Without
any channel configured it runs the console channel.

A channel module (`bot/channels/<name>.py`) provides
`async def setup(host: Host, settings: Settings) -> ChannelRuntime` (bot/core/channel.py);
the application is the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from bot.app import App
from bot.core.channel import ChannelRuntime, Host
from bot.core.config import Settings
from bot.web import build_web

log = logging.getLogger(__name__)


ChannelSetup = Callable[[Host, Settings], Awaitable[ChannelRuntime]]


def configured_channels(settings: Settings) -> list[str]:
    """The channel modules to start, by what the settings configure."""
    names = []
    if settings.telegram_enabled:
        names.append("telegram")
    if settings.whatsapp_enabled:
        names.append("whatsapp")
    return names


async def start_channels(app: App, settings: Settings) -> list[ChannelRuntime]:
    runtimes = []
    for name in configured_channels(settings):
        module = importlib.import_module(f"bot.channels.{name}")
        setup: ChannelSetup = module.setup
        runtimes.append(await setup(app, settings))
    return runtimes


async def serve(app: App, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the configured channels until `stop` is set (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    runtimes = await start_channels(app, settings)
    routes = [route for runtime in runtimes for route in runtime.routes]
    await app.release_left_claims(every_channel=True)  # SQLite: the only sender
    tasks: list[asyncio.Task[None]] = [asyncio.create_task(app.sender.run(), name="sender")]
    ticker = app.scheduler.start(settings.tick_seconds)
    for runtime in runtimes:
        tasks += [asyncio.create_task(_forever(job)) for job in runtime.tasks]
    server = None
    # Polling only: no web server is needed, but JAMAAH_METRICS_PORT asks for /metrics.
    if routes or settings.metrics_port:
        config = uvicorn.Config(
            build_web(app, routes),
            host=settings.host,
            port=settings.port if routes else int(settings.metrics_port or 0),
            log_level=settings.log_level.lower(),
            # JSON lines: uvicorn's loggers write through ours (its own handlers write text)
            log_config=None if settings.log_format.lower() == "json" else LOGGING_CONFIG,
            proxy_headers=True,
            forwarded_allow_ips="*",
        )
        server = _QuietServer(config)
        tasks.append(asyncio.create_task(server.serve(), name="web"))
    try:
        await stop.wait()
    finally:
        ticker.shutdown(wait=False)
        if server is not None:
            server.should_exit = True
        for runtime in runtimes:
            if runtime.stop is not None:
                with contextlib.suppress(Exception):
                    await runtime.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _forever(job: Callable[[], Awaitable[None]]) -> None:
    await job()


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: `serve` decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
