"""The anchors the portal is measured against (``make bench``): ``/bench/hello``, the
cheapest page, and ``/bench/insert``, one bare INSERT + commit.

They belong to the benchmarks, not to the portal: only the app that ``benchmarks/app.py``
builds (and ``common.bench_app``) has them. The blueprint is exempted from CSRF: the anchor
stands for "one bare INSERT + commit", and a token check would not be part of it.
"""
from __future__ import annotations

from flask import Blueprint, Flask
from sqlalchemy import text

from portal.access import allow
from portal.extensions import csrf, db

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


def register_anchors(app: Flask) -> Flask:
    csrf.exempt(bp)
    app.register_blueprint(bp, url_prefix="/bench")
    return app
