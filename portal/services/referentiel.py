"""Reference data every installation has: the seven exams."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import LIBELLES, Examen



def ensure_examens() -> dict[str, Examen]:
    existing = {e.code: e for e in db.session.scalars(select(Examen))}
    for ordre, (code, libelle) in enumerate(LIBELLES["examen"].items(), start=1):
        if code not in existing:
            existing[code] = Examen(code=code, libelle=libelle, ordre=ordre)
            db.session.add(existing[code])
    db.session.flush()
    return existing
