"""What every benchmark row shares: results and their JSON file, databases, the in-process
app, live servers, and the load generators (wrk, or locust when wrk is missing).

A row module exposes ``ROWS`` (the ids it produces) and ``run(ctx) -> list[dict]``; it
raises ``NotAvailable`` when a prerequisite (a service module, a route, demo data) is not
there, and the runner prints "not available yet: <reason>" instead of failing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench")
RESULT_KEYS = ("id", "database", "value", "anchor", "unit", "ratio", "target", "met")


class NotAvailable(Exception):
    """A prerequisite of the row is missing: the row is reported, not failed."""


# --- results --------------------------------------------------------------------------


def make_result(
    row_id: str,
    database: str,
    *,
    value: float,
    anchor: float | None,
    unit: str,
    target: str,
    met: bool,
    ratio: float | None = None,
    **details: Any,
) -> dict:
    """One object of ``bench-results.json``; ``ratio`` defaults to value / anchor."""
    if ratio is None and anchor:
        ratio = value / anchor
    result = {
        "id": row_id,
        "database": database,
        "value": _round(value),
        "anchor": _round(anchor),
        "unit": unit,
        "ratio": _round(ratio, 3),
        "target": target,
        "met": bool(met),
    }
    if details:
        result["details"] = {k: _round(v) if isinstance(v, float) else v for k, v in details.items()}
    return result


def _round(value: float | None, digits: int | None = None) -> float | None:
    """Four significant figures at least (0.0123, 1.234, 1234.5)."""
    if value is None:
        return None
    value = float(value)
    if digits is None:
        digits = 1 if abs(value) >= 100 else 2 if abs(value) >= 10 else 4
    return round(value, digits)


def write_results(path: Path, results: list[dict]) -> None:
    for result in results:
        missing = [k for k in RESULT_KEYS if k not in result]
        if missing:
            raise ValueError(f"result {result.get('id')} lacks {missing}")
    Path(path).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _cell(result: dict, key: str) -> str:
    if key == "met":
        return "yes" if result["met"] else "NO"
    if key == "details":
        return " ".join(f"{k}={v}" for k, v in (result.get("details") or {}).items())
    value = result.get(key)
    return "" if value is None else str(value)


def format_table(results: list[dict]) -> str:
    header = ("id", "database", "value", "anchor", "unit", "ratio", "target", "met", "details")
    lines = [[_cell(r, k) for k in header] for r in results]
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


# --- run context ----------------------------------------------------------------------


@dataclass
class Context:
    database: str  # "sqlite" or "postgresql"
    quick: bool
    workdir: Path
    # Resources several rows share on one database (the registration server), closed by
    # the runner once every row of the database has run.
    shared: dict[str, Any] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)

    def share(self, name: str, factory) -> Any:
        """``factory()`` is a context manager; its value is kept for the next rows."""
        if name not in self.shared:
            self.shared[name] = self.stack.enter_context(factory())
        return self.shared[name]

    def close(self) -> None:
        self.shared.clear()
        self.stack.close()

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def duration(self, full: float = 10.0, quick: float = 3.0) -> float:
        return quick if self.quick else full

    def fresh_url(self, name: str) -> str:
        """An empty database for one row: a new SQLite file, or a PostgreSQL database of its
        own (the bench database's name + ``_name``) with its public schema dropped and
        created again, so that a row never empties the database of a server another row
        shares."""
        if self.database == "sqlite":
            path = self.workdir / f"{name}.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return f"sqlite:///{path}"
        from sqlalchemy.engine import make_url

        base = make_url(PG_URL)
        url = base.set(database=f"{base.database}_{re.sub(r'[^a-z0-9_]', '_', name.lower())}")
        url = url.render_as_string(hide_password=False)
        reason = postgres_available(url)  # creates the database on first use
        if reason is not None:
            raise NotAvailable(reason)
        reset_postgres(url)
        return url


def postgres_available(url: str = PG_URL) -> str | None:
    """None when reachable (the database is created if missing), else the reason."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    try:
        engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return None


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def require_module(name: str, *attributes: str):
    """Import a service module the row measures, or say it has not landed yet."""
    from importlib import import_module

    try:
        module = import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise NotAvailable(f"{name} is missing") from exc
        raise
    missing = [a for a in attributes if not hasattr(module, a)]
    if missing:
        raise NotAvailable(f"{name} has no {', '.join(missing)}")
    return module


# --- in-process app -------------------------------------------------------------------


def bench_app(url: str, *, create_schema: bool = True, **overrides):
    """The portal in this process, on ``url``, with the tables of the models."""
    from benchmarks.anchors import register_anchors
    from portal import create_app
    from portal.config import DevelopmentConfig
    from portal.extensions import db

    settings = {"SERVER_NAME": "bench.localhost", **overrides}
    app = register_anchors(create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, **settings))
    quiet_logs()
    if create_schema:
        with app.app_context():
            db.create_all()
    return app


def quiet_logs() -> None:
    import logging

    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)


def timed(fn, *args, **kwargs) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- live servers ---------------------------------------------------------------------


@contextmanager
def live_server(
    ctx: Context, name: str, *, demo: bool = True, prepare=None, workers: int = 2,
    app: str = "benchmarks.app:app", extra_env: dict[str, str] | None = None,
) -> Iterator[Any]:
    """A gunicorn server (``-w 2`` sync) with the bench routes, on a fresh database.

    ``prepare(url, demo_output)`` runs in this process after migration and demo data,
    before the server starts (to add volume: registrations, pupils ...)."""
    from tests.support.liveserver import LiveServer

    if demo and not demo_available():
        raise NotAvailable("the `flask demo-data` command (portal/demo.py) is missing")
    url = ctx.fresh_url(name)
    server = LiveServer(
        ctx.workdir / name,
        database_url=url,
        workers=workers,
        demo=demo,
        extra_env=extra_env,
        app=app,
    )
    try:
        output = server.prepare()
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"preparing the database failed: {(exc.stderr or '')[-1500:]}") from exc
    server.demo_output = output
    server.database_url = url
    if prepare is not None:
        prepare(url, output)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def demo_available() -> bool:
    from importlib.util import find_spec

    if find_spec("portal.demo") is None:
        return False
    import portal.demo as demo

    return any(getattr(c, "name", "") == "demo-data" for c in getattr(demo, "COMMANDS", []))


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers: children of the master process."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master_pid:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- load generators ------------------------------------------------------------------


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    tool: str


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(output: str) -> LoadResult:
    def latency(pct: str) -> float | None:
        found = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(found.group(1)) * _UNITS_MS[found.group(2)] if found else None

    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not done or not rps:
        raise RuntimeError(f"unreadable wrk output:\n{output[-1500:]}")
    errors = 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        # "read" errors are counted by wrk when a server closes a connection it was told
        # to close (gunicorn sync workers close after every response): not failures.
        errors += int(socket.group(1)) + int(socket.group(3)) + int(socket.group(4))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        errors += int(bad.group(1))
    seconds = float(done.group(2)) * _UNITS_MS[done.group(3)] / 1000
    return LoadResult(
        int(done.group(1)), seconds, float(rps.group(1)), latency("50"), latency("99"), errors, "wrk"
    )


def wrk_path() -> str | None:
    return shutil.which("wrk")


def locust_path() -> str | None:
    candidate = Path(sys.executable).parent / "locust"
    return str(candidate) if candidate.exists() else shutil.which("locust")


def load_tool() -> str:
    """wrk when installed, else locust; ``BENCH_LOAD_TOOL=locust`` forces locust."""
    forced = os.environ.get("BENCH_LOAD_TOOL", "")
    if forced == "locust" and locust_path():
        return "locust"
    if wrk_path():
        return "wrk"
    if locust_path():
        return "locust"
    raise NotAvailable("neither wrk nor locust is installed (`make bench` installs one of them)")


def http_load(
    url: str,
    *,
    duration: float,
    connections: int = 50,
    threads: int = 2,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    workdir: Path,
) -> LoadResult:
    """Hammer one URL from a separate process for ``duration`` seconds."""
    if load_tool() == "wrk":
        return _wrk(url, duration, connections, threads, method, headers or {}, workdir)
    return _locust(url, duration, connections, method, headers or {}, workdir)


def _wrk(url, duration, connections, threads, method, headers, workdir) -> LoadResult:
    script = Path(workdir) / "wrk_request.lua"
    lines = [f'wrk.method = "{method}"']
    if method == "POST":
        lines += ['wrk.body = ""', 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"']
    for name, value in headers.items():
        lines.append(f'wrk.headers["{name}"] = {json.dumps(value)}')
    script.write_text("\n".join(lines) + "\n")
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-800:]}")
    return parse_wrk(done.stdout)


LOCUSTFILE = """
import json, os
from locust import FastHttpUser, constant, task

METHOD = os.environ["BENCH_METHOD"]
PATH = os.environ["BENCH_PATH"]
HEADERS = json.loads(os.environ["BENCH_HEADERS"])


class Visitor(FastHttpUser):
    wait_time = constant(0)

    @task
    def hit(self):
        self.client.request(METHOD, PATH, headers=HEADERS, data="" if METHOD == "POST" else None)
"""


def _locust(url, duration, connections, method, headers, workdir) -> LoadResult:
    import csv
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    workdir = Path(workdir)
    locustfile = workdir / "bench_locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    prefix = workdir / "locust"
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_PATH": parts.path + (f"?{parts.query}" if parts.query else ""),
        "BENCH_HEADERS": json.dumps(headers),
    }
    command = [
        locust_path(),
        "-f",
        str(locustfile),
        "--headless",
        "-u",
        str(connections),
        "-r",
        str(connections),
        "-t",
        f"{max(1, round(duration))}s",
        "--host",
        f"{parts.scheme}://{parts.netloc}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    subprocess.run(command, capture_output=True, text=True, timeout=duration + 90, env=env)
    with open(f"{prefix}_stats.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    requests = int(row["Request Count"])
    return LoadResult(
        requests,
        duration,
        float(row["Requests/s"]),
        float(row["50%"]),
        float(row["99%"]),
        int(row["Failure Count"]),
        "locust",
    )


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="portal-bench-"))
