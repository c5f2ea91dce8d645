"""The database lock for loads and unloads.

The lock is a row in the database, so every app instance sees it. Taking it is one
conditional UPDATE (atomic on SQLite and PostgreSQL: exactly one of two managers wins).
It carries who and since when, and expires unless its holder refreshes it, so a holder
that died cannot keep the portal read-only.

Writers of the other services call ``assert_writable()`` inside their transaction. On
PostgreSQL it reads the lock row ``FOR SHARE``: taking the lock waits for writes already
in flight, and writes that start later see the lock. On SQLite it first takes the write
lock (``begin_write``: writes are serialised by ``BEGIN IMMEDIATE``, see
``portal.database``), which gives the same guarantee.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select, update

from .. import generation
from ..database import begin_write
from ..extensions import db
from ..formatting import format_datetime
from ..models import Verrou, utcnow
from . import DatabaseLocked, ServiceError, audit

NOM = "base"


def _ensure_row() -> None:
    if db.session.get(Verrou, NOM) is None:
        db.session.add(Verrou(nom=NOM, actif=False))
        db.session.flush()


def current() -> Verrou | None:
    """The lock if it is held and not expired, else None."""
    verrou = db.session.get(Verrou, NOM)
    if verrou is None or not verrou.actif:
        return None
    if verrou.expire_at is not None and verrou.expire_at <= utcnow():
        return None
    return verrou


_TABLE = Verrou.__table__
_STATE = select(_TABLE.c.actif, _TABLE.c.expire_at).where(_TABLE.c.nom == NOM)
_STATE_FOR_SHARE = _STATE.with_for_update(read=True)


def is_held() -> bool:
    """Whether the lock is held and not expired (one plain read: banners, school computers)."""
    row = generation.cached("verrou", lambda: db.session.connection().execute(_STATE).first())
    return row is not None and bool(row.actif) and (row.expire_at is None or row.expire_at > utcnow())


def assert_writable() -> None:
    """Raise DatabaseLocked when a write of a non-manager service must be refused."""
    begin_write()
    connection = db.session.connection()
    stmt = _STATE_FOR_SHARE if connection.dialect.name == "postgresql" else _STATE
    row = connection.execute(stmt).first()
    if row is not None and row.actif and (row.expire_at is None or row.expire_at > utcnow()):
        raise DatabaseLocked(db.session.scalars(select(Verrou).where(Verrou.nom == NOM)
                                                .execution_options(populate_existing=True)).one())


def acquire(*, acteur: str, gestionnaire_id: int | None, motif: str) -> Verrou:
    _ensure_row()
    now = utcnow()
    ttl = current_app.config["LOCK_TTL"]
    result = db.session.execute(
        update(Verrou)
        .where(Verrou.nom == NOM, or_(Verrou.actif.is_(False), Verrou.expire_at <= now))
        .values(actif=True, acteur=acteur, gestionnaire_id=gestionnaire_id, motif=motif,
                depuis=now, expire_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        holder = db.session.get(Verrou, NOM)
        db.session.refresh(holder)
        raise ServiceError(f"La base est déjà verrouillée par {holder.acteur} depuis le "
                           f"{_fr(holder.depuis)}.")
    verrou = db.session.get(Verrou, NOM)
    db.session.refresh(verrou)
    audit.record("verrou.pose", objet_type="Verrou", objet_id=NOM, details={"motif": motif})
    return verrou


def refresh(*, gestionnaire_id: int | None = None) -> None:
    """Push back the expiry while the holder is still working."""
    now = utcnow()
    stmt = update(Verrou).where(Verrou.nom == NOM, Verrou.actif.is_(True), Verrou.expire_at > now)
    if gestionnaire_id is not None:
        stmt = stmt.where(Verrou.gestionnaire_id == gestionnaire_id)
    db.session.execute(stmt.values(expire_at=now + current_app.config["LOCK_TTL"])
                       .execution_options(synchronize_session=False))


def release(*, acteur: str) -> bool:
    verrou = db.session.get(Verrou, NOM)
    if verrou is None or not verrou.actif:
        return False
    before = {"acteur": verrou.acteur, "depuis": verrou.depuis}
    verrou.actif = False
    verrou.expire_at = None
    audit.record("verrou.leve", objet_type="Verrou", objet_id=NOM, details={"avant": before, "par": acteur})
    db.session.flush()
    return True


def _fr(moment: datetime | None) -> str:
    return format_datetime(moment) if moment else "?"
