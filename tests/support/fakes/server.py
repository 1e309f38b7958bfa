"""Serve an ASGI app with uvicorn on 127.0.0.1 and a random free port, inside a test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LocalServer:
    """`url` is known as soon as it is made (the socket is bound); `start` serves."""

    def __init__(self, asgi: Any = None) -> None:
        self.sock = free_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.asgi = asgi
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, asgi: Any = None) -> str:
        config = uvicorn.Config(
            asgi or self.asgi, lifespan="off", log_level="warning", access_log=False
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self.sock]))
        for _ in range(500):
            if self._server.started:
                return self.url
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("the local server did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)
        self.sock.close()
