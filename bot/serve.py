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
from bot.core.health import DEAD, RESTARTING, RUNNING, Health
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
    health = Health()
    fatal: list[str] = []  # why a task took the process down

    def supervised(name: str, job: Callable[[], Awaitable[None]], receiver: bool) -> Task:
        return asyncio.create_task(_supervise(name, job, health, stop, fatal, receiver), name=name)

    tasks: list[asyncio.Task[None]] = [supervised("sender", app.sender.run, False)]
    ticker = app.scheduler.start(settings.tick_seconds)
    for runtime in runtimes:
        for i, job in enumerate(runtime.tasks):
            name = f"{runtime.name or 'channel'}.{i}"
            if job is runtime.receiver:
                health.receivers[runtime.name or name] = name
            tasks.append(supervised(name, job, job is runtime.receiver))
    server = None
    # Polling only: no web server is needed, but JAMAAH_METRICS_PORT asks for /metrics.
    if routes or settings.metrics_port:
        config = uvicorn.Config(
            build_web(app, routes, health),
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
        # Let uvicorn finish its shutdown (its lifespan) before anything is cancelled:
        # cancelled halfway, it logs a traceback at every stop (`systemctl stop`).
        web = [task for task in tasks if task.get_name() == "web"]
        if web:
            await asyncio.wait(web, timeout=5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if fatal:
        raise RuntimeError(fatal[0])


Task = asyncio.Task[None]
RESTART_FIRST_S = 1.0  # a task that failed is started again after 1, 2, 4, ... s
RESTART_MAX_S = 60.0
RESTARTS_ALLOWED = 5  # within RESTART_WINDOW_S; one more and `jamaah run` stops
RESTART_WINDOW_S = 600.0


async def _supervise(
    task: str,
    job: Callable[[], Awaitable[None]],
    health: Health,
    stop: asyncio.Event,
    fatal: list[str],
    receiver: bool,
) -> None:
    """Run a long task of `jamaah run`; when it fails, start it again with backoff; when
    it fails too often, or a channel's receiver ends, stop the process (its supervisor,
    systemd or Docker, starts it again, and the operator sees it) rather than run on deaf."""
    loop = asyncio.get_running_loop()
    failures: list[float] = []
    while True:
        health.set(task, RUNNING)
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            now = loop.time()
            failures = [t for t in failures if t > now - RESTART_WINDOW_S] + [now]
            if len(failures) > RESTARTS_ALLOWED:
                health.set(task, DEAD)
                fatal.append(
                    f"the task {task} of jamaah run failed {len(failures)} times in "
                    f"{RESTART_WINDOW_S / 60:.0f} minutes ({type(error).__name__}); jamaah run "
                    "stopped: see the log above, fix the cause and start it again"
                )
                log.exception("%s", fatal[-1])
                stop.set()
                return
            wait = min(RESTART_FIRST_S * 2 ** (len(failures) - 1), RESTART_MAX_S)
            health.set(task, RESTARTING)
            log.exception("the task %s of jamaah run failed; started again in %.0f s", task, wait)
            await asyncio.sleep(wait)
            continue
        if receiver and not stop.is_set():
            health.set(task, DEAD)
            fatal.append(
                f"the task {task} of jamaah run, through which its channel hears people, "
                "stopped (see the log above: a refused token, say); jamaah run stopped so "
                "that it is seen: fix the cause and start it again"
            )
            log.error("%s", fatal[-1])
            stop.set()
        else:
            health.set(task, "done")
        return


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: `serve` decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
