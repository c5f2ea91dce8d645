"""Engine settings per database.

SQLite (the embedded default): WAL, foreign keys, a busy timeout, and write
transactions started with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead
of failing when they upgrade a read lock.

- GET requests read in one deferred transaction (a consistent snapshot).
- Write requests (POST..., and the GET views marked ``@writes_on_get``) read outside any
  transaction, each statement on its own, and start ``BEGIN IMMEDIATE`` at their first
  write statement (or at ``begin_write()``). SQLite admits one writer at a time: taking
  the write lock at the first query made every POST hold it through its reads, rule
  checks and rendering, so that two workers could never overlap. Reads before the
  first write see the latest committed data, as under PostgreSQL's READ COMMITTED; code
  that must read under the write lock (the lock row, which PostgreSQL reads ``FOR
  SHARE``/``FOR UPDATE``) calls ``begin_write()`` first.
- Outside requests (commands, tests), transactions start ``BEGIN IMMEDIATE``.

PostgreSQL (READ COMMITTED: each statement sees what was committed when it started, in a
transaction or not): a GET request reads in autocommit, without BEGIN and ROLLBACK (two
round trips of a page's four or five); its first write statement, locking read (``FOR
UPDATE``/``FOR SHARE``) or ``begin_write()`` opens a transaction as usual, which the
request commits or rolls back. Other requests and commands run in transactions from
their first statement. A connection always goes back to the pool out of autocommit.

PostgreSQL connections are checked when taken from the pool (a restarted server leaves
the pool with dead ones): instead of ``pool_pre_ping``'s ``SELECT 1``, whose answer is
thrown away, the check is a statement whose answer the request uses (``ping_reads``: the
counter of ``generation``), so that a page's first round trip does both jobs.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import current_app, g, has_request_context, request
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

from .extensions import db

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def writes_on_get(view):
    """Mark a GET view that writes (an audited download, a stored PDF): on SQLite its
    transaction then starts IMMEDIATE, like a POST's."""
    view.writes_on_get = True
    return view


def _begin_statement() -> str | None:
    """What opens a transaction: BEGIN (GET), nothing until the first write (write
    requests), BEGIN IMMEDIATE (outside requests)."""
    if not has_request_context():
        return "BEGIN IMMEDIATE"
    if request.method in WRITE_METHODS:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    return None if getattr(view, "writes_on_get", False) else "BEGIN"


# Statements that need the write lock when no transaction is open yet. A SAVEPOINT outside
# a transaction would open a deferred one, which could not take the lock later.
_NO_LOCK = ("SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK", "END", "RELEASE")


def _is_write(statement: str) -> bool:
    return not statement.lstrip()[:8].upper().startswith(_NO_LOCK)


def wrote_in_request() -> bool:
    """Whether this request has sent a write statement (or called ``begin_write``)."""
    return bool(g.get("_a_ecrit")) if has_request_context() else True


def begin_write() -> None:
    """Make sure the current transaction holds SQLite's write lock before reading what
    must not change until the commit (PostgreSQL locks the rows it reads instead; there
    a GET request reading in autocommit gets its transaction from the next statement)."""
    if has_request_context():
        g._a_ecrit = True
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name != "sqlite":
        _end_autocommit(raw)
        return
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


_LOCKING_READ = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


def _end_autocommit(raw) -> None:
    """PostgreSQL: the next statement opens a transaction (psycopg sends BEGIN with it)."""
    if raw.autocommit:
        raw.autocommit = False


class _Ping:
    """The statement that checks a pooled PostgreSQL connection, and who uses its answer."""

    statement = "SELECT 1"
    use: Callable[[Any], None] | None = None


def ping_reads(statement: str, use: Callable[[Any], None]) -> None:
    """Check PostgreSQL connections taken from the pool with ``statement`` (one row of one
    column, read in autocommit) and hand its value to ``use`` when the statement succeeds.
    An error other than a lost connection (its table not created yet, before the
    migrations) still shows that the connection is alive."""
    _Ping.statement, _Ping.use = statement, use


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
        before_statement = _sqlite_before_statement
    elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        _configure_postgresql(engine)
        before_statement = _postgresql_before_statement
    else:
        before_statement = None

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection, _cursor, statement, _parameters, _context, _executemany):
        write = _is_write(statement)
        if write and has_request_context():
            g._a_ecrit = True
        if before_statement is not None:
            before_statement(connection.connection.dbapi_connection, statement, write)


def _sqlite_before_statement(raw, _statement: str, write: bool) -> None:
    if write and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def _postgresql_before_statement(raw, statement: str, write: bool) -> None:
    if raw.autocommit and (write or _LOCKING_READ.search(statement)):
        raw.autocommit = False


def _configure_sqlite(engine: Engine) -> None:
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
        statement = _begin_statement()
        if statement is not None:
            connection.exec_driver_sql(statement)


def _ping(raw, statement: str):
    """One statement in autocommit (as SQLAlchemy's own ping): the connection stays idle."""
    autocommit = raw.autocommit
    raw.autocommit = True
    try:
        return raw.execute(statement).fetchone()
    finally:
        if not raw.closed:
            raw.autocommit = autocommit


def _configure_postgresql(engine: Engine) -> None:
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # psycopg sends its BEGIN with the first statement: the connection is still idle
        # here, so its mode can be chosen.
        raw = connection.connection.dbapi_connection
        if raw.info.transaction_status == TransactionStatus.IDLE:
            raw.autocommit = _begin_statement() == "BEGIN"

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        # What pool_pre_ping does (see the module's docstring), the statement aside.
        try:
            row = _ping(dbapi_connection, _Ping.statement)
        except engine.dialect.loaded_dbapi.Error as error:
            if dbapi_connection.closed or engine.dialect.is_disconnect(error, dbapi_connection, None):
                # As pool_pre_ping: every pooled connection older than now is replaced.
                raise exc.InvalidatePoolError() from error
            return  # the server answered (the table is not created yet): the connection is alive
        if _Ping.use is not None and row is not None:
            _Ping.use(row[0])

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection, _record):
        # Raw connections taken from the pool (exports, loads) expect transactions.
        if dbapi_connection is not None and not dbapi_connection.closed:
            _end_autocommit(dbapi_connection)
