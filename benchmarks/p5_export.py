"""P5: the full unload of 100,000 registrations as CSV over HTTP.

- value: seconds from the manager's POST ``/gestionnaire/dechargements/complet`` (logged
  in, CSRF token) to the last byte of the CSV received by the client, median of the
  measured downloads (one unmeasured warm-up download first);
- anchor: the same rows (the service's own ``exports.changes_select`` query) as CSV in
  memory, buffered: ``COPY (...) TO STDOUT`` read by psycopg 3 on PostgreSQL; on SQLite,
  which has no COPY, ``sqlite3`` rows through ``csv.writer`` into a buffer, 1,000 at a time;
- memory: every gunicorn worker's RSS (``/proc/<pid>/status``) sampled every 10 ms during
  each measured download; the growth is the largest peak minus that worker's RSS just
  before the download. Target: <= 2x the anchor's time and +20 MB at most.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
import time

import requests

from benchmarks.common import (
    Context,
    NotAvailable,
    bench_app,
    live_server,
    make_result,
    median,
    require_module,
    rss_kb,
    timed,
    worker_pids,
)
from benchmarks.flow import fill, parse
from benchmarks.seed import bulk_inscriptions, create_world

ROWS = ("P5",)
EMAIL = "mesure@ac-bench.fr"
PASSWORD = "Une phrase de passe pour mesurer 2026"
EXPORT_PATH = "/gestionnaire/dechargements/complet"
MEASURED = 2


def run(ctx: Context) -> list[dict]:
    exports = require_module("portal.services.exports", "changes_select", "write_csv")
    count = ctx.size(100_000, 5_000)
    state: dict = {}

    def prepare(url: str, _output: str) -> None:
        app = bench_app(url, create_schema=False)
        with app.app_context():
            from portal.extensions import db

            world = create_world()
            bulk_inscriptions(
                world.session_id, world.etablissement_id, world.examen_id, world.specialite_id, count
            )
            _create_manager()
            state["sql"] = _compiled(exports.changes_select(world.session_id, 0), db.engine)
            state["anchor_s"] = median([timed(_anchor, db.engine, state["sql"])[0] for _ in range(3)])
            db.engine.dispose()

    with live_server(ctx, "p5", demo=False, prepare=prepare) as server:
        http = _manager_session(server.url)
        _download(http, server.url)  # warm-up
        runs = [_measured_download(http, server) for _ in range(MEASURED)]
    seconds = median([r[0] for r in runs])
    growth_mb = max(r[1] for r in runs) / 1024
    lines = runs[-1][2]
    if lines < count:
        raise RuntimeError(f"the CSV has {lines} lines for {count} registrations")
    anchor = state["anchor_s"]
    return [
        make_result(
            "P5",
            ctx.database,
            value=seconds,
            anchor=anchor,
            unit="s",
            target="<= 2x; worker memory +20 MB at most",
            met=seconds <= 2 * anchor and growth_mb <= 20,
            worker_growth_mb=growth_mb,
            rows=count,
            csv_lines=lines,
            anchor_kind="COPY TO STDOUT" if ctx.database == "postgresql" else "sqlite3 + csv.writer",
        )
    ]


def _create_manager() -> None:
    from portal.extensions import db
    from portal.models import Gestionnaire
    from portal.services.passwords import hash_password

    db.session.add(
        Gestionnaire(
            email=EMAIL,
            nom="Mesure",
            role="admin",
            password_hash=hash_password(PASSWORD),
            must_change_password=False,
        )
    )
    db.session.commit()


def _compiled(query, engine) -> str:
    return str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _anchor(engine, sql: str) -> int:
    """Bytes of the CSV of ``sql``, produced in memory the fastest plain way."""
    if engine.dialect.name == "postgresql":
        import psycopg

        buffer = io.BytesIO()
        with psycopg.connect(
            engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        ) as conn:
            with conn.cursor() as cursor, cursor.copy(
                f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';')"
            ) as copy:
                for chunk in copy:
                    buffer.write(chunk)
        return buffer.tell()
    conn = sqlite3.connect(engine.url.database)
    try:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        cursor = conn.execute(sql)
        writer.writerow([d[0] for d in cursor.description])
        while rows := cursor.fetchmany(1000):
            writer.writerows(rows)
        return len(out.getvalue().encode("utf-8"))
    finally:
        conn.close()


def _manager_session(base_url: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base_url + "/gestionnaire/connexion", timeout=30)
    form = next((f for f in parse(page.text).forms if f.method == "post" and "email" in f.names()), None)
    if form is None:
        raise NotAvailable("no manager login form at /gestionnaire/connexion")
    response = http.post(
        base_url + "/gestionnaire/connexion",
        data=fill(form, {"email": EMAIL, "password": PASSWORD}),
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code != 302:
        raise RuntimeError(
            f"manager login refused: HTTP {response.status_code} {parse(response.text).errors[:2]}"
        )
    return http


def _csrf_token(http: requests.Session, base_url: str) -> str:
    page = http.get(base_url + "/gestionnaire/dechargements", timeout=60)
    for form in parse(page.text).forms:
        if form.action.endswith(EXPORT_PATH):
            return next(i["value"] for i in form.inputs if i["name"] == "csrf_token")
    raise NotAvailable(f"no form posting to {EXPORT_PATH} on /gestionnaire/dechargements")


def _download(http: requests.Session, base_url: str) -> tuple[float, int]:
    """(seconds to the last byte, CSV lines) of one full unload."""
    data = {"csrf_token": _csrf_token(http, base_url)}
    start = time.perf_counter()
    lines = 0
    with http.post(
        base_url + EXPORT_PATH, data=data, stream=True, allow_redirects=False, timeout=600
    ) as response:
        if response.status_code != 200 or "csv" not in response.headers.get("Content-Type", ""):
            raise RuntimeError(
                f"the unload answered HTTP {response.status_code} {response.headers.get('Content-Type')}"
            )
        for chunk in response.iter_content(64 * 1024):
            lines += chunk.count(b"\n")
    return time.perf_counter() - start, lines - 1


def _measured_download(http: requests.Session, server) -> tuple[float, int, int]:
    """(seconds, largest worker RSS growth in kB, CSV lines)."""
    pids = worker_pids(server.process.pid)
    before = {pid: rss_kb(pid) for pid in pids}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], rss_kb(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        seconds, lines = _download(http, server.url)
    finally:
        done.set()
        sampler.join()
    return seconds, max(peak[pid] - before[pid] for pid in pids), lines
