"""The current exam session and the calendar of the registration services."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from ..extensions import db
from ..models import SessionExamen


def current_session() -> SessionExamen | None:
    """The session marked current (one at most, held by a unique index)."""
    if "session_examen" in g:
        return g.session_examen
    found = db.session.scalar(select(SessionExamen).where(SessionExamen.courante.is_(True)))
    g.session_examen = found
    return found
