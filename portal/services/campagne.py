"""The current exam session and the calendar of the registration services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g
from sqlalchemy import select

from ..extensions import db
from ..formatting import format_datetime
from ..models import Examen, OuvertureService, SessionExamen, utcnow


def current_session() -> SessionExamen | None:
    """The session marked current (one at most, held by a unique index)."""
    if "session_examen" in g:
        return g.session_examen
    found = db.session.scalar(select(SessionExamen).where(SessionExamen.courante.is_(True)))
    g.session_examen = found
    return found


@dataclass(frozen=True)
class EtatService:
    """Whether a registration service accepts registrations now, and why not."""

    ouvert: bool
    # Inside the late window: only candidates a manager authorised may register.
    tardif: bool = False
    raison: str = ""
    # When it opens (if not yet open) or closes (if open), naive UTC.
    jusqu_a: datetime | None = None


def _ouvertures(session_id: int, service: str) -> dict[int | None, OuvertureService]:
    rows = db.session.scalars(select(OuvertureService).where(OuvertureService.session_id == session_id,
                                                             OuvertureService.service == service))
    return {row.examen_id: row for row in rows}


def _window(row: OuvertureService, now: datetime, qui: str) -> EtatService:
    if not row.ouvert:
        return EtatService(False, raison=f"{qui} est fermé par le rectorat.")
    if row.debut is not None and now < row.debut:
        return EtatService(False, raison=f"{qui} n'est pas encore ouvert.", jusqu_a=row.debut)
    if row.fin is None or now < row.fin:
        return EtatService(True, jusqu_a=row.fin)
    if row.fin_tardive is not None and now < row.fin_tardive:
        return EtatService(True, tardif=True, jusqu_a=row.fin_tardive,
                           raison="La période normale d'inscription est terminée : seuls les candidats "
                                  "autorisés par le rectorat peuvent encore s'inscrire.")
    return EtatService(False, raison=f"{qui} est clos depuis le {format_datetime(row.fin_tardive or row.fin)}.")


def etat_service(session_examen: SessionExamen | None, service: str, examen: Examen | None = None,
                 now: datetime | None = None) -> EtatService:
    """The state of a service (``etablissement`` or ``public``) globally or for one exam.

    The global row must allow it, and the exam's row too when there is one; the most
    restrictive wins. No row at all means closed.
    """
    now = now or utcnow()
    if session_examen is None:
        return EtatService(False, raison="Aucune session d'examen n'est ouverte.")
    rows = _ouvertures(session_examen.id, service)
    globale = rows.get(None)
    if globale is None:
        return EtatService(False, raison="Le service d'inscription n'a pas encore été ouvert par le rectorat.")
    etat = _window(globale, now, "Le service d'inscription")
    if not etat.ouvert or examen is None:
        return etat
    propre = rows.get(examen.id)
    if propre is None:
        return etat
    etat_examen = _window(propre, now, f"L'inscription au {examen.code}")
    if not etat_examen.ouvert:
        return etat_examen
    ends = [d for d in (etat.jusqu_a, etat_examen.jusqu_a) if d is not None]
    return EtatService(True, tardif=etat.tardif or etat_examen.tardif,
                       raison=etat_examen.raison or etat.raison, jusqu_a=min(ends) if ends else None)


def examens_ouverts(session_examen: SessionExamen | None, service: str,
                    now: datetime | None = None) -> dict[int, EtatService]:
    """For each exam id, its state (open ones only)."""
    result = {}
    for examen in db.session.scalars(select(Examen).order_by(Examen.ordre)):
        etat = etat_service(session_examen, service, examen, now)
        if etat.ouvert:
            result[examen.id] = etat
    return result
