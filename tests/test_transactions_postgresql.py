"""How requests use PostgreSQL transactions (``portal/database.py``).

A GET request reads in autocommit (no BEGIN/ROLLBACK round trips); anything that must be
atomic or hold a lock — a write, a locking read, ``begin_write()`` — opens a transaction
that lasts until the request commits or rolls back. Other requests and commands are
transactional from their first statement, and no connection goes back to the pool in
autocommit."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import delete, func, insert, select

from portal.database import begin_write
from portal.extensions import db
from portal.models import Brouillon, GenerationDonnees, Verrou, utcnow

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_overrides():
    # One pooled connection: the one a request used is the one the next checkout gets.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 1, "max_overflow": 0}}


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
    """A request's database work: committed or rolled back at the end, session closed."""
    with app.test_request_context("/", method=method):
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
