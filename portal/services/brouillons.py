"""Server-side drafts of registrations being entered step by step.

The session cookie holds only a random draft id; the answers stay in the database, shared
by every app instance. Drafts expire after a few hours without change.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from ..extensions import db
from ..models import Brouillon, new_token, utcnow

TTL = timedelta(hours=6)


_TABLE = Brouillon.__table__
# Read and written on every step of every registration: statements built once, no ORM object.
_LOAD = select(_TABLE.c.donnees).where(_TABLE.c.id == bindparam("draft_id"), _TABLE.c.updated_at >= bindparam("since"))
_UPDATE = (update(_TABLE).where(_TABLE.c.id == bindparam("draft_id"))
           .values(donnees=bindparam("donnees"), updated_at=bindparam("now")))
_INSERT = insert(_TABLE).values(id=bindparam("draft_id"), donnees=bindparam("donnees"), updated_at=bindparam("now"))


def load(draft_id: str | None) -> dict[str, Any]:
    if not isinstance(draft_id, str) or not draft_id:
        return {}
    donnees = db.session.connection().execute(_LOAD, {"draft_id": draft_id, "since": utcnow() - TTL}).scalar()
    return dict(donnees) if donnees else {}


def save(draft_id: str | None, data: dict[str, Any]) -> str:
    """Store the draft (a new one when ``draft_id`` is unknown or expired); returns its id."""
    connection, now = db.session.connection(), utcnow()
    if isinstance(draft_id, str) and draft_id:
        if connection.execute(_UPDATE, {"draft_id": draft_id, "donnees": data, "now": now}).rowcount:
            return draft_id
    _purge_expired()
    draft_id = new_token()
    connection.execute(_INSERT, {"draft_id": draft_id, "donnees": data, "now": now})
    return draft_id


_DELETE = delete(_TABLE).where(_TABLE.c.id == bindparam("draft_id"))
_PURGE = delete(_TABLE).where(_TABLE.c.updated_at < bindparam("before"))


def discard(draft_id: str | None) -> None:
    if isinstance(draft_id, str) and draft_id:
        db.session.connection().execute(_DELETE, {"draft_id": draft_id})


def _purge_expired() -> None:
    db.session.connection().execute(_PURGE, {"before": utcnow() - TTL})
