"""A real server for browser journeys, attacker tools and benchmarks: gunicorn on a free
127.0.0.1 port, on a fresh database migrated and filled by ``flask demo-data``."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, workdir: Path, *, database_url: str | None = None, workers: int = 2,
                 demo: bool = True, extra_env: dict[str, str] | None = None, app: str = "wsgi:app"):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.demo = demo
        self.app = app  # the WSGI application gunicorn serves, as module:name
        self.env = {
            **os.environ,
            "PORTAL_ENV": "development",
            "DATABASE_URL": database_url or f"sqlite:///{self.workdir / 'live.sqlite'}",
            "SECRET_KEY": "live-server-secret-key-0123456789abcdefghij",
            "FLASK_DEBUG": "0",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.log = self.workdir / "server.log"

    def _flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=600, check=True)

    def prepare(self) -> str:
        self._flask("db", "upgrade")
        if self.demo:
            return self._flask("demo-data", "--reset").stdout
        return ""

    def start(self) -> "LiveServer":
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--timeout", "120", "--log-level", "warning", self.app],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/sante", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
