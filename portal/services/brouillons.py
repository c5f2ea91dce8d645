"""Server-side drafts of registrations being entered step by step.

The session cookie holds only a random draft id; the answers stay in the database, shared
by every app instance. Drafts expire after a few hours without change.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete

from ..extensions import db
from ..models import Brouillon, new_token, utcnow

TTL = timedelta(hours=6)


def load(draft_id: str | None) -> dict[str, Any]:
    if not isinstance(draft_id, str) or not draft_id:
        return {}
    draft = db.session.get(Brouillon, draft_id)
    if draft is None or draft.updated_at < utcnow() - TTL:
        return {}
    return dict(draft.donnees)


def save(draft_id: str | None, data: dict[str, Any]) -> str:
    """Store the draft (a new one when ``draft_id`` is unknown); returns its id."""
    draft = db.session.get(Brouillon, draft_id) if isinstance(draft_id, str) and draft_id else None
    if draft is None:
        _purge_expired()
        draft = Brouillon(id=new_token(), donnees=data)
        db.session.add(draft)
    else:
        draft.donnees = data
        draft.updated_at = utcnow()
    return draft.id


_DELETE = delete(Brouillon.__table__).where(Brouillon.__table__.c.id == bindparam("draft_id"))


def discard(draft_id: str | None) -> None:
    if isinstance(draft_id, str) and draft_id:
        db.session.connection().execute(_DELETE, {"draft_id": draft_id})


def _purge_expired() -> None:
    db.session.execute(delete(Brouillon).where(Brouillon.updated_at < utcnow() - TTL))
