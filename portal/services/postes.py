"""School computers opened for pupils: the server's record of each one.

Opening a computer with the registration password inserts a row whose random id the
computer's session holds; every request of that session checks that the row still exists.
"Fermer le poste" deletes it, so that a copy of the cookie stops working at once while the
school's other computers stay open. A row lives at most as long as a session
(``SESSION_ABSOLUTE_LIFETIME``); expired rows are purged when a computer opens.
Changing or resetting the registration password closes every computer of the school.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, delete, insert, select

from ..extensions import db
from ..models import Etablissement, PosteOuvert, new_token, utcnow
from . import ServiceError, audit, passwords, throttle

LOGIN_ERROR = "Code d'établissement ou mot de passe incorrect."

_TABLE = PosteOuvert.__table__
# Read on every request of a school computer: built once, no ORM object.
_IS_OPEN = select(_TABLE.c.id).where(_TABLE.c.id == bindparam("poste_id"),
                                     _TABLE.c.etablissement_id == bindparam("etab_id"),
                                     _TABLE.c.opened_at >= bindparam("since"))
_INSERT = insert(_TABLE).values(id=bindparam("poste_id"), etablissement_id=bindparam("etab_id"),
                                opened_at=bindparam("now"))
_DELETE = delete(_TABLE).where(_TABLE.c.id == bindparam("poste_id"))
_DELETE_ALL = delete(_TABLE).where(_TABLE.c.etablissement_id == bindparam("etab_id"))
_PURGE = delete(_TABLE).where(_TABLE.c.opened_at < bindparam("before"))


def _oldest_open() -> datetime:
    return utcnow() - current_app.config["SESSION_ABSOLUTE_LIFETIME"]


def authenticate(code: str, password: str, ip: str) -> Etablissement:
    """The establishment whose code and registration password match.

    Raises throttle.TropDeTentatives past the throttle (even for the right password) and
    ServiceError with one message for an unknown code or a wrong password (audited)."""
    code = (code or "").strip().upper()
    wait = throttle.POSTE_LOGIN.blocked_for(code, ip)
    if wait is not None:
        raise throttle.TropDeTentatives(wait)
    etab = db.session.scalar(select(Etablissement).where(Etablissement.code == code, Etablissement.actif.is_(True)))
    if not passwords.verify_password(etab.inscription_password_hash if etab else None, password or ""):
        throttle.POSTE_LOGIN.fail(code, ip)
        audit.record("poste.connexion", outcome="echec", objet_type="Etablissement", objet_id=code,
                     etablissement_code=etab.code if etab else None)
        raise ServiceError(LOGIN_ERROR, field="password")
    throttle.POSTE_LOGIN.succeed(code, ip)
    return etab


def open_poste(etab: Etablissement) -> str:
    """Record a newly opened computer of ``etab``; returns the id its session keeps."""
    connection = db.session.connection()
    connection.execute(_PURGE, {"before": _oldest_open()})
    poste_id = new_token()
    connection.execute(_INSERT, {"poste_id": poste_id, "etab_id": etab.id, "now": utcnow()})
    return poste_id


def is_open(poste_id: object, etab_id: int) -> bool:
    if not isinstance(poste_id, str) or not poste_id:
        return False
    found = db.session.connection().execute(
        _IS_OPEN, {"poste_id": poste_id, "etab_id": etab_id, "since": _oldest_open()}).first()
    return found is not None


def close_poste(poste_id: object) -> None:
    """End this computer's session on the server (the school's other computers stay open)."""
    if isinstance(poste_id, str) and poste_id:
        db.session.connection().execute(_DELETE, {"poste_id": poste_id})


def close_all(etab: Etablissement) -> None:
    """Every computer of the school (its registration password changed or was reset)."""
    db.session.connection().execute(_DELETE_ALL, {"etab_id": etab.id})


def purge_expired() -> int:
    return db.session.connection().execute(_PURGE, {"before": _oldest_open()}).rowcount
