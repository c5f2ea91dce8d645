"""Engine settings per database.

SQLite (the embedded default): WAL, foreign keys, a busy timeout, and write
transactions started with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead
of failing when they upgrade a read lock. Reads (GET requests) stay deferred;
a GET view that writes says so with ``@writes_on_get``.
"""
from __future__ import annotations

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def writes_on_get(view):
    """Mark a GET view that writes (an audited download, a stored PDF): on SQLite its
    transaction then starts IMMEDIATE, like a POST's."""
    view.writes_on_get = True
    return view


def _reads_only() -> bool:
    if not has_request_context() or request.method in WRITE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "writes_on_get", False)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - trivial
        # Let SQLAlchemy emit BEGIN itself (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _reads_only():
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
