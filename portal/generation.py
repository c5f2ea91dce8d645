"""Campaign data kept between requests, for as long as the database says it has not changed.

Every page of the registration flows reads the same few rows: the current session, its
calendar, the school computer's establishment, the lock, the specialties offered. They
change a few times a day (a manager, a school head) and are read thousands of times a
minute on opening days.

Triggers on their tables raise ``generation_donnees.valeur`` in the transaction that
changes them. SQLite runs one writer at a time: plain row triggers. PostgreSQL: a deferred
constraint trigger, so that the counter row is updated at commit, after every other row
the transaction locks (it cannot take part in a deadlock), plus a statement trigger for
TRUNCATE. The counters of ``sessions_examen`` (taken by every registration) are left out.
Pupils (``eleves``) are not watched either: a load writes up to 100,000 of them, and a row
trigger would tax every one. What is kept of them (whether an establishment has a pupil
base) changes only through the services that write pupils, which raise the counter
themselves (``bump``) at the end of their transaction.

A request reads the counter first (one small query; on PostgreSQL, the statement that checks
a connection taken from the pool reads it, see ``database.ping_reads``). When it equals the one
the process's values were filed under, they are used as they are; otherwise they are
dropped and read again, after the counter. A value is therefore never filed under a
counter older than the data it was read from: a change committed after the counter read
is seen by the next request, of every instance.

A request uses it until its first write statement (or ``begin_write``); from then on it
reads the database, so that it never sees values older than its own writes. The reads a
submission makes before writing are as fresh as the counter read at the start of the
request; what must not change until the commit is read under lock as before (the lock row
in ``verrou.assert_writable``, the session counters).

Watching one more table: add it to ``WATCHED`` and write a migration that creates its
triggers with its own copy of the statements (a migration never imports the application; see
``baa1c3d46e0e``). On SQLite, a migration that rebuilds a watched table (``batch_alter_table``
copies it) drops its triggers and must create them again. ``tests/test_foundation.py`` checks
that the migrations leave the triggers ``create_all`` installs, and
``tests/inscription/test_generation.py`` that every table a kept value is read from is watched.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask, current_app
from sqlalchemy import event, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import manager_of_class, set_committed_value
from sqlalchemy.orm.util import identity_key

from . import request_cache
from .database import ping_reads, wrote_in_request
from .extensions import db
from .models import GenerationDonnees

T = TypeVar("T")

TABLE = GenerationDonnees.__table__.name
# Watched table -> the columns whose update counts (None: any column).
WATCHED: dict[str, tuple[str, ...] | None] = {
    "sessions_examen": ("annee", "libelle", "academie", "date_examen", "courante", "texte_confirmation",
                        "texte_accueil", "created_at"),
    "examens": None,
    "ouvertures_service": None,
    "etablissements": None,
    "verrous": None,
    "specialites": None,
    "statuts_publication": None,
    "etablissement_specialites": None,
}
_FUNCTION = "generation_donnees_suivante"
# Table and function names below are constants of this module, never input.
_BUMP = f"UPDATE {TABLE} SET valeur = valeur + 1 WHERE id = 1"  # nosec B608


def install_statements(dialect: str, watched: dict[str, tuple[str, ...] | None]) -> list[str]:
    """The row of the counter and the triggers that raise it (idempotent)."""
    if dialect == "postgresql":
        statements = [
            f"INSERT INTO {TABLE} (id, valeur) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",  # nosec B608
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_BUMP}; RETURN NULL; END $$",
        ]
        for table, columns in watched.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            statements += [
                f"DROP TRIGGER IF EXISTS generation_{table} ON {table}",
                f"CREATE CONSTRAINT TRIGGER generation_{table} AFTER INSERT OR {update} OR DELETE ON {table} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()",
                f"DROP TRIGGER IF EXISTS generation_{table}_vidage ON {table}",
                f"CREATE TRIGGER generation_{table}_vidage AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()",
            ]
        return statements
    statements = [f"INSERT OR IGNORE INTO {TABLE} (id, valeur) VALUES (1, 0)"]
    for table, columns in watched.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        for name, what in (("ajout", "INSERT"), ("modification", update), ("suppression", "DELETE")):
            statements.append(f"CREATE TRIGGER IF NOT EXISTS generation_{table}_{name} "
                              f"AFTER {what} ON {table} BEGIN {_BUMP}; END")
    return statements


def uninstall_statements(dialect: str, watched: dict[str, tuple[str, ...] | None]) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table in watched
                for name in (f"generation_{table}", f"generation_{table}_vidage")] + [
            f"DROP FUNCTION IF EXISTS {_FUNCTION}()"]
    return [f"DROP TRIGGER IF EXISTS generation_{table}_{name}" for table in watched
            for name in ("ajout", "modification", "suppression")]


def bump() -> None:
    """Raise the counter in the current transaction, for a change no trigger watches (see the
    module's docstring). Call it last before the commit: on PostgreSQL the counter row then
    stays locked for as short a time as the triggers' (deferred to the commit) lock it."""
    db.session.execute(text(_BUMP))


def install(connection: Connection, watched: dict[str, tuple[str, ...] | None] = WATCHED) -> None:
    for statement in install_statements(connection.dialect.name, watched):
        connection.exec_driver_sql(statement)


def _after_create(_metadata, connection, **_kw) -> None:
    """``create_all`` (tests, benchmarks) installs what the migrations install."""
    install(connection)


# --- the values kept by this process ---------------------------------------------------------

_READ = select(GenerationDonnees.__table__.c.valeur).where(GenerationDonnees.__table__.c.id == 1)


class _Store:
    """(counter, values) of one application in one process, replaced as a whole, so that a
    request that read an older counter never files its values under a newer one."""

    def __init__(self) -> None:
        self.current: tuple[int, dict] = (-1, {})
        self.lock = threading.Lock()


def _store() -> _Store:
    return current_app.extensions.setdefault("portal.generation", _Store())


_COUNTER_KEY = "generation_donnees"


def init_app(app: Flask) -> None:
    """Wired by ``create_app``: ``create_all`` installs the triggers, and a PostgreSQL
    connection taken from the pool reads the counter before any statement of the request on
    it (a value read afterwards is never older than that counter)."""
    if not event.contains(db.Model.metadata, "after_create", _after_create):
        event.listen(db.Model.metadata, "after_create", _after_create)
    ping_reads(f"SELECT valeur FROM {TABLE} WHERE id = 1",  # nosec B608 (constant)
               lambda valeur: request_cache.offer(_COUNTER_KEY, valeur))


def _read_counter() -> int | None:
    connection = db.session.connection()
    offered = request_cache.get(_COUNTER_KEY)  # read by the connection's check, if it was just taken
    if offered is not None:
        return offered
    return connection.execute(_READ).scalar()


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` once per change of the campaign data in this process, until a request
    writes; once per request in any case (then ``request_cache.forget`` drops it); outside a
    request, every time."""
    return request_cache.cached(key, lambda: _kept(key, load))


def _kept(key: Hashable, load: Callable[[], T]) -> T:
    if wrote_in_request():
        return load()
    counter = request_cache.cached(_COUNTER_KEY, _read_counter)
    if counter is None:  # the row is missing: nothing is kept
        return load()
    store = _store()
    with store.lock:
        current = store.current
        if current[0] != counter:
            current = store.current = (counter, {})
    values = current[1]
    if key not in values:
        values[key] = load()
    return values[key]


def first_row(statement, parameters: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The columns of the statement's first row (a plain dict, safe to keep), or None."""
    row = db.session.connection().execute(statement, parameters).first()
    return dict(row._mapping) if row is not None else None


def attach(model: type[T], values: dict[str, Any] | None) -> T | None:
    """An instance of ``model`` in this request's database session, built from column
    values without a query (columns left out are read from the database if touched)."""
    if values is None:
        return None
    existing = db.session.identity_map.get(identity_key(model, values["id"]))
    if existing is not None:
        # Already in this session (read earlier, maybe expired by a commit): fill what is
        # not loaded instead of reading the row again.
        for key in inspect(existing).unloaded & values.keys():
            set_committed_value(existing, key, values[key])
        return existing
    # The values go straight into the instance's state (no attribute events, about a third of
    # the cost of ``model(**values)``), then count as loaded from the row.
    instance = manager_of_class(model).new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance
