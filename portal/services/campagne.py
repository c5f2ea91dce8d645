"""The current exam session and the calendar of the registration services."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask import g
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import joinedload

from .. import generation
from ..extensions import db
from ..formatting import format_datetime
from ..models import SERVICES, Examen, OuvertureService, SessionExamen, utcnow
from ..request_cache import forget
from . import ServiceError, audit


_SESSIONS = SessionExamen.__table__
# Every column but the two counters every registration takes (read from the row if touched).
_SESSION_COURANTE = select(*(c for c in _SESSIONS.c if c.name not in ("dernier_numero", "dernier_changement"))
                           ).where(_SESSIONS.c.courante.is_(True))


def current_session() -> SessionExamen | None:
    """The session marked current (one at most, held by a unique index)."""
    if "session_examen" in g:
        return g.session_examen
    values = generation.cached("session_courante", lambda: generation.first_row(_SESSION_COURANTE))
    found = generation.attach(SessionExamen, values)
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
    # When an exam's registrations closed (if closed), naive UTC.
    depuis: datetime | None = None


@dataclass(frozen=True)
class _Examen:
    id: int
    code: str
    libelle: str = ""


@dataclass(frozen=True)
class _Ligne:
    """A calendar row as the rules read it (plain values, no ORM object)."""

    service: str
    examen_id: int | None
    ouvert: bool
    debut: datetime | None
    fin: datetime | None
    fin_tardive: datetime | None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class _Calendrier:
    examens: list[_Examen]
    lignes: dict[tuple[str, int | None], _Ligne]  # by (service, exam id or None)


_EXAMENS = Examen.__table__
_LIGNES = OuvertureService.__table__
_LIGNE_COLUMNS = (_LIGNES.c.service, _LIGNES.c.examen_id, _LIGNES.c.ouvert, _LIGNES.c.debut, _LIGNES.c.fin,
                  _LIGNES.c.fin_tardive, _LIGNES.c.updated_at)
# Every exam in its order with the session's rows that apply to it (its own and the
# global ones); built once, read with plain columns on every registration request.
_CALENDRIER = (
    select(_EXAMENS.c.id, _EXAMENS.c.code, _EXAMENS.c.libelle, *_LIGNE_COLUMNS, _LIGNES.c.id.label("ligne"))
    .select_from(_EXAMENS)
    .outerjoin(_LIGNES, and_(_LIGNES.c.session_id == bindparam("session_id"),
                             or_(_LIGNES.c.examen_id == _EXAMENS.c.id, _LIGNES.c.examen_id.is_(None))))
    .order_by(_EXAMENS.c.ordre)
)
_LIGNES_SEULES = select(*_LIGNE_COLUMNS).where(_LIGNES.c.session_id == bindparam("session_id"))


def _calendrier(session_id: int) -> _Calendrier:
    """The exams in their order and every calendar row of the session: one query, once per
    request (the rows are then evaluated in Python for every exam)."""
    def load() -> _Calendrier:
        connection = db.session.connection()
        rows = connection.execute(_CALENDRIER, {"session_id": session_id}).all()
        examens = list(dict.fromkeys(_Examen(row.id, row.code, row.libelle) for row in rows))
        lignes = [row for row in rows if row.ligne is not None]
        if not rows:  # no exam at all: the global rows still tell whether a service is open
            lignes = connection.execute(_LIGNES_SEULES, {"session_id": session_id}).all()
        return _Calendrier(examens, {
            (row.service, row.examen_id): _Ligne(row.service, row.examen_id, bool(row.ouvert), row.debut, row.fin,
                                                 row.fin_tardive, row.updated_at)
            for row in lignes})

    return generation.cached(("calendrier", session_id), load)


def _window(row: _Ligne, now: datetime, qui: str) -> EtatService:
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


def _window_examen(row: _Ligne, now: datetime, code: str) -> EtatService:
    """``_window`` for an exam's own row, saying since when its registrations are closed
    (a row closed by hand: since its last change), in Paris time."""
    etat = _window(row, now, f"L'inscription au {code}")
    if etat.ouvert:
        return etat
    if row.debut is not None and now < row.debut:
        return replace(etat, raison=f"Les inscriptions au {code} ne sont pas encore ouvertes : elles ouvrent le "
                                    f"{format_datetime(row.debut)} (heure de Paris).")
    depuis = (row.fin_tardive or row.fin) if row.ouvert else row.updated_at
    if depuis is None:
        return replace(etat, raison=f"Les inscriptions au {code} sont closes.")
    return replace(etat, raison=f"Les inscriptions au {code} sont closes depuis le {format_datetime(depuis)} "
                                "(heure de Paris).", depuis=depuis)


def etat_service(session_examen: SessionExamen | None, service: str, examen: Examen | _Examen | None = None,
                 now: datetime | None = None) -> EtatService:
    """The state of a service (``etablissement`` or ``public``) globally or for one exam.

    The global row must allow it, and the exam's row too when there is one; the most
    restrictive wins. No row at all means closed.
    """
    now = now or utcnow()
    if session_examen is None:
        return EtatService(False, raison="Aucune session d'examen n'est ouverte.")
    rows = _calendrier(session_examen.id).lignes
    globale = rows.get((service, None))
    if globale is None:
        return EtatService(False, raison="Le service d'inscription n'a pas encore été ouvert par le rectorat.")
    etat = _window(globale, now, "Le service d'inscription")
    if not etat.ouvert or examen is None:
        return etat
    propre = rows.get((service, examen.id))
    if propre is None:
        return etat
    etat_examen = _window_examen(propre, now, examen.code)
    if not etat_examen.ouvert:
        return etat_examen
    ends = [d for d in (etat.jusqu_a, etat_examen.jusqu_a) if d is not None]
    return EtatService(True, tardif=etat.tardif or etat_examen.tardif,
                       raison=etat_examen.raison or etat.raison, jusqu_a=min(ends) if ends else None)


def examens_ouverts(session_examen: SessionExamen | None, service: str,
                    now: datetime | None = None) -> dict[int, EtatService]:
    """For each exam id, its state (open ones only); the calendar is read once, then
    evaluated for every exam."""
    if session_examen is None:
        return {}
    result = {}
    now = now or utcnow()
    for examen in _calendrier(session_examen.id).examens:
        etat = etat_service(session_examen, service, examen, now)
        if etat.ouvert:
            result[examen.id] = etat
    return result


@dataclass(frozen=True)
class EtatExamen:
    """One line of the calendar shown to candidates: an exam and its state now."""

    code: str
    libelle: str
    etat: EtatService


def calendrier_examens(session_examen: SessionExamen | None, service: str, examen_ids=None,
                       now: datetime | None = None) -> list[EtatExamen]:
    """The state of each exam (those of ``examen_ids`` when given) for a service, in the
    exams' order: open until when, or closed and why. The public home page and the
    specialty step of both services show it."""
    if session_examen is None:
        return []
    now = now or utcnow()
    return [EtatExamen(examen.code, examen.libelle, etat_service(session_examen, service, examen, now))
            for examen in _calendrier(session_examen.id).examens
            if examen_ids is None or examen.id in examen_ids]


# --- sessions ------------------------------------------------------------------------

SESSION_FIELDS = ("annee", "libelle", "academie", "date_examen", "texte_confirmation", "texte_accueil")


def list_sessions() -> list[SessionExamen]:
    return list(db.session.scalars(select(SessionExamen).order_by(SessionExamen.annee.desc())))


def _session_values(session_examen: SessionExamen) -> dict:
    return {field: getattr(session_examen, field) for field in SESSION_FIELDS}


def _check_annee(annee: int, *, ignore_id: int | None = None) -> None:
    stmt = select(SessionExamen.id).where(SessionExamen.annee == annee)
    if ignore_id is not None:
        stmt = stmt.where(SessionExamen.id != ignore_id)
    if db.session.scalar(stmt) is not None:
        raise ServiceError("Une session existe déjà pour cette année.", field="annee")


def create_session(*, annee: int, libelle: str, academie: str, date_examen, texte_confirmation: str = "",
                   texte_accueil: str = "", courante: bool = False) -> SessionExamen:
    """Create and initialise a session: both services get a closed global calendar row."""
    _check_annee(annee)
    session_examen = SessionExamen(annee=annee, libelle=libelle.strip(), academie=academie.strip(),
                                   date_examen=date_examen, texte_confirmation=texte_confirmation or "",
                                   texte_accueil=texte_accueil or "", courante=False)
    db.session.add(session_examen)
    db.session.flush()
    for service in SERVICES:
        db.session.add(OuvertureService(session_id=session_examen.id, service=service, examen_id=None,
                                        ouvert=False))
    audit.record("session.creee", session_examen, details=_session_values(session_examen))
    db.session.flush()
    if courante:
        set_current(session_examen)
    return session_examen


def update_session(session_examen: SessionExamen, **values) -> None:
    """Edit a session's parameters and texts (plain text, escaped wherever shown)."""
    if "annee" in values:
        _check_annee(values["annee"], ignore_id=session_examen.id)
    before = _session_values(session_examen)
    for field in SESSION_FIELDS:
        if field not in values:
            continue
        value = values[field]
        if field in ("libelle", "academie"):
            value = value.strip()
        elif field.startswith("texte"):
            value = value or ""
        setattr(session_examen, field, value)
    changes = audit.diff(before, _session_values(session_examen))
    if changes["avant"] or changes["apres"]:
        audit.record("session.modifiee", session_examen, details=changes)
    db.session.flush()


def set_current(session_examen: SessionExamen) -> None:
    """Make this session the current one; the previous current one stops being so."""
    previous = db.session.scalar(select(SessionExamen).where(SessionExamen.courante.is_(True)))
    if previous is not None and previous.id == session_examen.id:
        return
    if previous is not None:
        previous.courante = False
        db.session.flush()  # the unique index allows one current session at a time
    session_examen.courante = True
    db.session.flush()
    g.pop("session_examen", None)
    forget()
    audit.record("session.courante", session_examen,
                 details={"avant": previous.annee if previous else None, "apres": session_examen.annee})


# --- calendar ------------------------------------------------------------------------


def ouvertures(session_examen: SessionExamen) -> list[OuvertureService]:
    """Every calendar row of the session: services in order, global row first, then exams."""
    rows = db.session.scalars(
        select(OuvertureService).outerjoin(Examen, Examen.id == OuvertureService.examen_id)
        .where(OuvertureService.session_id == session_examen.id)
        .options(joinedload(OuvertureService.examen))
        .order_by(OuvertureService.service, OuvertureService.examen_id.is_not(None), Examen.ordre))
    return list(rows)


def find_ouverture(session_examen: SessionExamen, service: str, examen: Examen | None) -> OuvertureService | None:
    return db.session.scalar(select(OuvertureService).where(
        OuvertureService.session_id == session_examen.id, OuvertureService.service == service,
        OuvertureService.examen_id == examen.id if examen is not None else OuvertureService.examen_id.is_(None)))


def _row_values(row: OuvertureService | None) -> dict:
    if row is None:
        return {}
    return {"ouvert": row.ouvert, "debut": row.debut, "fin": row.fin, "fin_tardive": row.fin_tardive}


def save_ouverture(session_examen: SessionExamen, service: str, examen: Examen | None, *, ouvert: bool,
                   debut: datetime | None, fin: datetime | None,
                   fin_tardive: datetime | None) -> OuvertureService:
    """Set the window of a service, globally or for one exam (times in naive UTC)."""
    if service not in SERVICES:
        raise ServiceError("Service inconnu.")
    if fin is not None and debut is not None and fin <= debut:
        raise ServiceError("La fermeture doit être postérieure à l'ouverture.", field="fin")
    if fin_tardive is not None and (fin is None or fin_tardive <= fin):
        raise ServiceError("La fin de la période tardive doit être postérieure à la fermeture.",
                           field="fin_tardive")
    row = find_ouverture(session_examen, service, examen)
    before = _row_values(row)
    if row is None:
        row = OuvertureService(session_id=session_examen.id, service=service,
                               examen_id=examen.id if examen is not None else None)
        db.session.add(row)
    row.ouvert, row.debut, row.fin, row.fin_tardive = ouvert, debut, fin, fin_tardive
    db.session.flush()
    forget()
    audit.record("calendrier.modifie", row, details={
        "service": service, "examen": examen.code if examen is not None else None,
        **audit.diff(before, _row_values(row))})
    return row


def delete_ouverture(row: OuvertureService) -> None:
    """Remove an exam's own row: the exam then follows the global row."""
    if row.examen_id is None:
        raise ServiceError("La ligne globale d'un service ne peut pas être supprimée.")
    audit.record("calendrier.supprime", row, details={"service": row.service, "examen": row.examen.code,
                                                      "avant": _row_values(row)})
    db.session.delete(row)
    db.session.flush()
    forget()
