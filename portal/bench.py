"""Routes for the benchmarks only (``make bench``): the anchors the portal is measured against.

Registered only when ``BENCH_ROUTES`` is true (``PORTAL_BENCH_ROUTES=1``, set by the
benchmark's own servers), so they never exist in production. The blueprint is exempted
from CSRF at registration, under the same condition: ``/bench/insert`` stands for "one bare
INSERT + commit", the cheapest possible write, and a token check would not be part of it.
"""
from __future__ import annotations

from flask import Blueprint, Flask
from sqlalchemy import text

from .access import allow
from .extensions import db

bp = Blueprint("bench", __name__)

_CREATE = {
    "postgresql": "CREATE TABLE IF NOT EXISTS bench_rows (id serial primary key, value text)",
    "sqlite": "CREATE TABLE IF NOT EXISTS bench_rows (id integer primary key, value text)",
}
_ready: set[str] = set()


def _ensure_table() -> None:
    """Create the table on first use (outside the models and the migrations on purpose)."""
    url = str(db.engine.url)
    if url in _ready:
        return
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two workers creating it at once collide even with IF NOT EXISTS (pg_type).
            conn.execute(text("SELECT pg_advisory_xact_lock(4242)"))
        conn.execute(text(_CREATE.get(db.engine.dialect.name, _CREATE["sqlite"])))
    _ready.add(url)


@bp.get("/hello")
@allow("tous")
def hello():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/insert")
@allow("tous")
def insert_row():
    _ensure_table()
    db.session.execute(text("INSERT INTO bench_rows (value) VALUES (:value)"), {"value": "x"})
    db.session.commit()
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


def register_bench(app: Flask) -> None:
    """Only when the configuration asks for it: ``BENCH_ROUTES`` (never in production)."""
    if not app.config.get("BENCH_ROUTES"):
        return
    from .extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp, url_prefix="/bench")
