"""Session counters: registration numbers N and the change sequence of unloads.

Each value comes from ``UPDATE ... SET n = n + 1 RETURNING n`` inside the writing
transaction. The row stays locked until commit, so values are unique, gapless (a
rolled-back transaction gives its value back) and handed out in commit order, which is
what makes the unload cursor safe.
"""
from __future__ import annotations

from sqlalchemy import bindparam, update

from ..extensions import db
from ..models import SessionExamen


def next_changement(session_id: int) -> int:
    return db.session.execute(
        update(SessionExamen)
        .where(SessionExamen.id == session_id)
        .values(dernier_changement=SessionExamen.dernier_changement + 1)
        .returning(SessionExamen.dernier_changement)
        .execution_options(synchronize_session=False)
    ).scalar_one()


_SESSIONS = SessionExamen.__table__
# Built once, run with a parameter on the session's connection (the submission path).
_BOTH = (update(_SESSIONS)
         .where(_SESSIONS.c.id == bindparam("session_id"))
         .values(dernier_numero=_SESSIONS.c.dernier_numero + 1,
                 dernier_changement=_SESSIONS.c.dernier_changement + 1)
         .returning(_SESSIONS.c.dernier_numero, _SESSIONS.c.dernier_changement))


def next_numero_et_changement(session_id: int) -> tuple[int, int]:
    """A new registration takes both counters: one statement instead of two."""
    numero, changement = db.session.connection().execute(_BOTH, {"session_id": session_id}).one()
    return numero, changement
