"""Run the sandbox org: in a background thread for tests and `cifcheck run`, or in the foreground for people."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from types import TracebackType

import uvicorn

from cifcheck.sandbox.app import SandboxApp, SandboxUrls

REQUEST_LOG = "CIFCHECK_SANDBOX_REQUEST_LOG"


class SandboxServer:
    """The sandbox org on 127.0.0.1, served by uvicorn from a background thread; a context manager."""

    def __init__(
        self, port: int = 0, latency_ms: int = 0, app_ready_ms: int | None = None, library_delay_ms: int | None = None
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        # Bound but never listening: connections to it are refused, as they are by an org that went away.
        self._refused = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._refused.bind(("127.0.0.1", 0))
        self.app = SandboxApp(
            self.port,
            latency_ms=latency_ms,
            app_ready_ms=app_ready_ms,
            library_delay_ms=library_delay_ms,
            refused_port=self._refused.getsockname()[1],
        )
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def urls(self) -> SandboxUrls:
        return self.app.urls

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="cifcheck-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox org did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()
        self._refused.close()
        self._log_requests()

    def _log_requests(self) -> None:
        """Appends the Web API requests no page made, by method, to the file CIFCHECK_SANDBOX_REQUEST_LOG names:
        the test suite checks across every process that cifcheck only ever sent GETs."""
        log = os.environ.get(REQUEST_LOG)
        if log:
            with open(log, "a", encoding="utf-8") as file:
                file.write(json.dumps(dict(self.app.state.outside_page_requests)) + "\n")

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        self._server.run(sockets=[self._socket])

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
