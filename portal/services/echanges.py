"""The exchange log: every load and unload is an ``Echange``.

An exchange starts ``en_cours`` (committed before the work, so that other managers see
it), then ends ``succes`` or ``echec``; a successful load may later be ``annule``. While it
runs its holder refreshes ``heartbeat_at``; a running exchange whose heartbeat is older
than ``ECHANGE_HEARTBEAT_TIMEOUT`` died with its process and counts as failed.

Starting a load takes the lock row ``FOR UPDATE`` (PostgreSQL; on SQLite the write
transaction, ``BEGIN IMMEDIATE``, is opened first): of two managers starting a load at once, the second
waits, then sees the first one running and is refused.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from ..database import begin_write
from ..extensions import db
from ..formatting import format_datetime
from ..models import Echange, Verrou, utcnow
from . import ServiceError, audit, verrou

TYPES_CHARGEMENT = ("etablissements", "specialites", "eleves")
DEFAULT_HEARTBEAT_TIMEOUT = timedelta(minutes=5)


def heartbeat_timeout() -> timedelta:
    return current_app.config.get("ECHANGE_HEARTBEAT_TIMEOUT", DEFAULT_HEARTBEAT_TIMEOUT)


def is_stale(echange: Echange, now: datetime | None = None) -> bool:
    """A running exchange whose process stopped giving news."""
    if echange.etat != "en_cours":
        return False
    last = echange.heartbeat_at or echange.started_at
    return last < (now or utcnow()) - heartbeat_timeout()


def etat_affiche(echange: Echange, now: datetime | None = None) -> str:
    return "echec" if is_stale(echange, now) else echange.etat


def mark_stale() -> int:
    """Record as failed the running exchanges that died; returns how many."""
    limit = utcnow() - heartbeat_timeout()
    stale = db.session.scalars(select(Echange).where(Echange.etat == "en_cours")).all()
    count = 0
    for echange in stale:
        if (echange.heartbeat_at or echange.started_at) < limit:
            echange.etat = "echec"
            echange.finished_at = utcnow()
            echange.message = "Interrompu : le traitement a cessé de donner des nouvelles."
            audit.record("echange.interrompu", echange, details={"type": echange.type})
            count += 1
    db.session.flush()
    return count


def _lock_row() -> Verrou | None:
    begin_write()
    stmt = select(Verrou).where(Verrou.nom == verrou.NOM)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return db.session.scalars(stmt.execution_options(populate_existing=True)).first()


def running_load() -> Echange | None:
    return db.session.scalars(
        select(Echange).where(Echange.etat == "en_cours", Echange.type.in_(TYPES_CHARGEMENT))
        .order_by(Echange.id).limit(1)
    ).first()


def start(type_: str, *, acteur: str, gestionnaire_id: int | None = None, session_id: int | None = None,
          etablissement_id: int | None = None, fichier: dict[str, Any] | None = None) -> Echange:
    """A new running exchange. A load needs the database lock and no other running load.

    The caller commits at once, so that the exchange is visible while the work runs."""
    if type_ in TYPES_CHARGEMENT:
        row = _lock_row()
        if row is None or verrou.current() is None:
            raise ServiceError("Verrouillez la base avant un chargement : les autres services doivent "
                               "être en consultation seule pendant qu'il s'exécute.")
        mark_stale()
        other = running_load()
        if other is not None:
            raise ServiceError(f"Un chargement est déjà en cours (lancé par {other.acteur} le "
                               f"{format_datetime(other.started_at)}) : attendez qu'il se termine.")
    fichier = fichier or {}
    now = utcnow()
    echange = Echange(type=type_, etat="en_cours", acteur=acteur, gestionnaire_id=gestionnaire_id,
                      session_id=session_id, etablissement_id=etablissement_id, started_at=now,
                      heartbeat_at=now, fichier_nom=fichier.get("nom"), fichier_sha256=fichier.get("sha256"),
                      fichier_taille=fichier.get("taille"), rapport=[])
    db.session.add(echange)
    db.session.flush()
    audit.record("echange.debute", echange, details={"type": type_, "fichier": fichier.get("nom"),
                                                     "sha256": fichier.get("sha256")})
    return echange


def heartbeat(echange_id: int) -> None:
    """Tell the others this exchange is alive, from outside the running transaction.

    On PostgreSQL through a connection of its own (committed at once); SQLite allows one
    writer only, and the running transaction is it, so the heartbeat waits for the end."""
    if db.engine.dialect.name != "postgresql":
        return
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(update(Echange).where(Echange.id == echange_id, Echange.etat == "en_cours")
                     .values(heartbeat_at=now))
        conn.execute(update(Verrou)
                     .where(Verrou.nom == verrou.NOM, Verrou.actif.is_(True), Verrou.expire_at > now)
                     .values(expire_at=now + current_app.config["LOCK_TTL"]))


def finish(echange: Echange, *, lignes: int, crees: int, modifies: int, supprimes: int,
           message: str = "") -> None:
    echange.etat = "succes"
    echange.finished_at = echange.heartbeat_at = utcnow()
    echange.nb_lignes, echange.nb_crees = lignes, crees
    echange.nb_modifies, echange.nb_supprimes = modifies, supprimes
    echange.nb_erreurs = 0
    echange.message = message
    db.session.flush()
    audit.record("echange.termine", echange, details=counts(echange))


def fail(echange: Echange, message: str, *, rapport: list[dict] | None = None, nb_erreurs: int | None = None,
         lignes: int = 0) -> None:
    echange.etat = "echec"
    echange.finished_at = echange.heartbeat_at = utcnow()
    echange.message = message[:2000]
    echange.rapport = rapport or []
    echange.nb_erreurs = nb_erreurs if nb_erreurs is not None else len(echange.rapport)
    echange.nb_lignes = lignes
    db.session.flush()
    audit.record("echange.echoue", echange, outcome="echec",
                 details={**counts(echange), "message": echange.message})


def counts(echange: Echange) -> dict[str, Any]:
    return {"type": echange.type, "lignes": echange.nb_lignes, "crees": echange.nb_crees,
            "modifies": echange.nb_modifies, "supprimes": echange.nb_supprimes, "erreurs": echange.nb_erreurs}


def list_query(*, type_: str | None = None, etat: str | None = None):
    """The exchanges, newest first, for ``db.paginate``."""
    stmt = select(Echange).order_by(Echange.id.desc())
    if type_:
        stmt = stmt.where(Echange.type == type_)
    if etat == "echec":
        limit = utcnow() - heartbeat_timeout()
        stmt = stmt.where((Echange.etat == "echec") | ((Echange.etat == "en_cours")
                                                        & (Echange.heartbeat_at < limit)))
    elif etat:
        stmt = stmt.where(Echange.etat == etat)
    return stmt
