"""The app served by uvicorn in a background thread on a loopback port.

For tests and benchmarks that talk to the real server over HTTP from the same process.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from core.runtime import Runtime
from server.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """`with BackgroundServer(runtime) as s:` serves the app at `s.url` until the block ends."""

    def __init__(self, runtime: Runtime, port: int = 0, start_timeout_s: float = 60) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self._timeout = start_timeout_s

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline and self.thread.is_alive():
            if self.server.started:  # listening; whether its stores answer is `/healthz`'s to say
                return self
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
