"""An ASGI app served on 127.0.0.1 from a background thread, for the loopback fakes."""

import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp


class LoopbackServer:
    """Serves `app` on a free loopback port until `stop`."""

    def __init__(self, app: ASGIApp, backlog: int = 1024) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port: int = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", backlog=backlog)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("loopback server did not start")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
