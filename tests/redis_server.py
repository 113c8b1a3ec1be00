"""A real redis-server for the tests: started on a free loopback port in a temp dir, and stopped.

Tests never mock Redis. Where redis-server is not installed the Redis tests are
skipped with a visible reason, except under CI (CI=true), where they fail: CI
must install it (.ci/run does).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_redis_server() -> str:
    """The redis-server executable; skip (or, under CI, fail) the test where there is none."""
    path = shutil.which("redis-server")
    if path is None:
        reason = (
            "redis-server is not installed (apt-get install redis-server): Redis store untested"
        )
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process on 127.0.0.1; ``restart`` reuses its port and directory."""

    def __init__(
        self, directory: Path, *, appendfsync: str | None = None, extra: tuple[str, ...] = ()
    ) -> None:
        self.executable = require_redis_server()
        self.directory = directory
        self.appendfsync = appendfsync  # None: no persistence at all; else appendonly + this
        self.extra = extra  # more redis-server options
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # port 0 means "no TCP" to Redis: probe for a free port, and try another if a
        # concurrent test took it between the probe and the bind
        for _ in range(5):
            if not self.port:
                self.port = free_port()
            if self._launch():
                return
            self.port = 0
        raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis.log'}")

    def _launch(self) -> bool:
        persistence = (
            ["--appendonly", "no"]
            if self.appendfsync is None
            else ["--appendonly", "yes", "--appendfsync", self.appendfsync]
        )
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(self.directory / "redis.log"),
                *persistence,
                *self.extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # e.g. the port was taken meanwhile
            if self.ping():
                return True
            time.sleep(0.02)
        self.kill()
        return False

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed beyond what the fsync policy already wrote."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: the server holds its connections and answers nothing (a hung primary)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.kill()
        if not self._launch():
            raise RuntimeError(f"redis-server did not restart on port {self.port}")
