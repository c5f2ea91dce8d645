"""Reference data every installation has: the seven exams."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Examen

EXAMENS_LIBELLES = (
    ("BTS", "Brevet de technicien supérieur"),
    ("BCP", "Baccalauréat professionnel"),
    ("BP", "Brevet professionnel"),
    ("CAP", "Certificat d'aptitude professionnelle"),
    ("BEP", "Brevet d'études professionnelles"),
    ("MC4", "Mention complémentaire de niveau 4"),
    ("MC5", "Mention complémentaire de niveau 5"),
)


def ensure_examens() -> dict[str, Examen]:
    existing = {e.code: e for e in db.session.scalars(select(Examen))}
    for ordre, (code, libelle) in enumerate(EXAMENS_LIBELLES, start=1):
        if code not in existing:
            existing[code] = Examen(code=code, libelle=libelle, ordre=ordre)
            db.session.add(existing[code])
    db.session.flush()
    return existing
