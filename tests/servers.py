"""Real servers for the integration tests: uvicorn on a loopback port, in a thread.

The socket is bound first (port 0: the system picks a free one), so the test knows
the service's origin before it builds the application. Every server is stopped by
the context manager, within a bounded wait.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from agentchain import PrivateKey

ALICE = PrivateKey.from_seed(b"http-tests alice".ljust(32, b"."))
AGENT = PrivateKey.from_seed(b"http-tests agent".ljust(32, b"."))
SUB = PrivateKey.from_seed(b"http-tests sub-agent".ljust(32, b"."))
MALLORY = PrivateKey.from_seed(b"http-tests mallory".ljust(32, b"."))


def loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def uvicorn_server(build: Callable[[str], Any], *, timeout: float = 10.0) -> Iterator[str]:
    """Serve ``build(origin)`` on 127.0.0.1; yield the origin; stop the server after."""
    sock = loopback_socket()
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(build(origin), log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield origin
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
