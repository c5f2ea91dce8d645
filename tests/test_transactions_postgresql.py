"""How requests use PostgreSQL transactions (``portal/database.py``).

A GET request reads in autocommit (no BEGIN/ROLLBACK round trips); anything that must be
atomic or hold a lock — a write, a locking read, ``begin_write()`` — opens a transaction
that lasts until the request commits or rolls back. Other requests and commands are
transactional from their first statement, and no connection goes back to the pool in
autocommit. A connection taken from the pool is checked by a statement that reads the
campaign data's counter, so that a restarted server costs no request."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.pool import NullPool

from portal.database import begin_write
from portal.extensions import db
from portal.models import Brouillon, GenerationDonnees, Verrou, utcnow
from tests.test_query_counts import counting_queries

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_overrides():
    # One pooled connection: the one a request used is the one the next checkout gets.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}}


def _status():
    return db.session.connection().connection.dbapi_connection.info.transaction_status


def _read():
    return db.session.execute(select(GenerationDonnees.valeur)).all()


def _drafts_seen_elsewhere() -> int:
    """Drafts as another connection sees them (what is committed)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        return other.execute(select(func.count()).select_from(Brouillon)).scalar_one()


def _write_draft() -> None:
    db.session.execute(insert(Brouillon).values(id="brouillon-test", donnees={}, updated_at=utcnow()))


@contextmanager
def request(app, method="GET", *, commit=False):
    """A request's database work: committed or rolled back at the end, session closed.
    Its own application context, as in production: its own ``g`` and database session."""
    with app.app_context(), app.test_request_context("/", method=method):
        try:
            yield
            if commit:
                db.session.commit()
        finally:
            db.session.rollback()
            db.session.remove()


@pytest.fixture
def clean_drafts(pg_app):
    db.session.execute(delete(Brouillon))
    db.session.commit()
    db.session.remove()
    yield
    db.session.remove()


def test_a_get_request_writes_atomically_after_reading_without_a_transaction(pg_app, clean_drafts):
    with request(pg_app):
        _read()
        assert _status() == TransactionStatus.IDLE  # nothing held between statements
        _write_draft()
        assert _status() == TransactionStatus.INTRANS
    assert _drafts_seen_elsewhere() == 0  # rolled back as a whole, not committed alone

    with request(pg_app, commit=True):
        _read()
        _write_draft()
    assert _drafts_seen_elsewhere() == 1


def test_a_locking_read_in_a_get_request_keeps_its_lock_until_the_end(pg_app, clean_drafts):
    with request(pg_app):
        _read()
        db.session.execute(select(Verrou.__table__).with_for_update(read=True)).all()
        assert _status() == TransactionStatus.INTRANS


def test_begin_write_in_a_get_request_opens_the_transaction(pg_app, clean_drafts):
    with request(pg_app):
        _read()
        begin_write()
        _read()
        assert _status() == TransactionStatus.INTRANS


@pytest.mark.parametrize("method", ["POST", None])
def test_posts_and_commands_are_transactions_from_their_first_statement(pg_app, clean_drafts, method):
    if method is None:  # a command, a background job
        _read()
        assert _status() == TransactionStatus.INTRANS
        db.session.rollback()
        return
    with request(pg_app, method):
        _read()
        assert _status() == TransactionStatus.INTRANS


def test_no_connection_goes_back_to_the_pool_in_autocommit(pg_app, clean_drafts):
    with request(pg_app):
        _read()
        assert db.session.connection().connection.dbapi_connection.autocommit
    # Exports and loads take raw connections from the pool and expect transactions.
    raw = db.engine.raw_connection()
    try:
        assert raw.driver_connection.autocommit is False
    finally:
        raw.close()


def _terminate_pooled_connections(app) -> int:
    """What a restart of the server does to the pool: every other connection to the database
    is closed by the server (the pool does not know until it uses one)."""
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        with killer.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
            return other.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    finally:
        killer.dispose()


def test_connections_closed_by_the_server_cost_no_request(pg_app, clean_drafts):
    with request(pg_app):
        _read()
    assert _terminate_pooled_connections(pg_app) >= 1
    # The check when the connection is taken from the pool finds it dead and takes a new one.
    with request(pg_app):
        assert _read() == db.session.execute(select(GenerationDonnees.valeur)).all()
    assert _terminate_pooled_connections(pg_app) >= 1
    with request(pg_app, "POST", commit=True):
        _write_draft()
    assert _drafts_seen_elsewhere() == 1


def test_the_check_of_a_pooled_connection_reads_the_generation_counter(pg_app, clean_drafts):
    from portal import generation, request_cache

    with request(pg_app):
        _read()
    with db.engine.begin() as other:
        other.execute(update(GenerationDonnees).values(valeur=GenerationDonnees.valeur + 1))
        expected = other.execute(select(GenerationDonnees.valeur)).scalar_one()
    with request(pg_app), counting_queries() as statements:
        # The first read of the request takes the connection from the pool: its check reads the counter.
        assert generation.cached("essai", lambda: "valeur") == "valeur"
        assert request_cache.get("generation_donnees") == expected
    assert statements == []  # the counter came with the check, not from a statement of its own
