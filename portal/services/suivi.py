"""Follow-up of the campaign: dashboard figures, establishments, the audit trail.

Every figure comes from one aggregated query (GROUP BY), never a query per row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, extract, func, or_, select

from ..extensions import db
from ..formatting import from_paris, plain_integer, to_paris
from ..models import (
    AuditEvent,
    Candidat,
    Etablissement,
    Examen,
    Inscription,
    SessionExamen,
    Specialite,
    etablissement_specialites,
    utcnow,
)

ACTIVE = Inscription.statut == "active"


@dataclass(frozen=True)
class Ligne:
    """One row of a dashboard table: a label and its active / cancelled counts."""

    libelle: str
    actives: int
    annulees: int = 0
    code: str = ""


def _counts():
    return (func.count().filter(Inscription.statut == "active").label("actives"),
            func.count().filter(Inscription.statut == "annulee").label("annulees"))


def par_examen(session_examen: SessionExamen) -> list[Ligne]:
    actives, annulees = _counts()
    rows = db.session.execute(
        select(Examen.code, Examen.libelle, actives, annulees)
        .join(Inscription, Inscription.examen_id == Examen.id)
        .where(Inscription.session_id == session_examen.id)
        .group_by(Examen.id, Examen.code, Examen.libelle, Examen.ordre).order_by(Examen.ordre))
    return [Ligne(f"{r.code} – {r.libelle}", r.actives, r.annulees, code=r.code) for r in rows]


def par_specialite(session_examen: SessionExamen) -> list[Ligne]:
    actives, annulees = _counts()
    rows = db.session.execute(
        select(Examen.code.label("examen"), Specialite.code, Specialite.libelle, actives, annulees)
        .join(Inscription, Inscription.specialite_id == Specialite.id)
        .join(Examen, Examen.id == Specialite.examen_id)
        .where(Inscription.session_id == session_examen.id)
        .group_by(Specialite.id, Examen.code, Specialite.code, Specialite.libelle)
        .order_by(actives.desc(), Specialite.code))
    return [Ligne(f"{r.examen} {r.code} – {r.libelle}", r.actives, r.annulees, code=r.code) for r in rows]


def par_etablissement(session_examen: SessionExamen) -> list[Ligne]:
    actives, annulees = _counts()
    rows = db.session.execute(
        select(Etablissement.code, Etablissement.nom, actives, annulees)
        .select_from(Inscription)
        .outerjoin(Etablissement, Etablissement.id == Inscription.etablissement_id)
        .where(Inscription.session_id == session_examen.id)
        .group_by(Etablissement.id, Etablissement.code, Etablissement.nom)
        .order_by(actives.desc(), Etablissement.code))
    return [Ligne(f"{r.code} – {r.nom}" if r.code else "Candidats individuels", r.actives, r.annulees,
                  code=r.code or "") for r in rows]


def par_jour(session_examen: SessionExamen, *, jours: int = 30, today: date | None = None) -> list[Ligne]:
    """Registrations created each day of the last ``jours`` days, zeros included.

    Days are Paris days (a registration at 23:30 UTC on 31 March counts on 1 April). Storage
    is naive UTC and the databases have no common time-zone function, so one query counts
    per UTC date and hour (``extract`` is portable) and Python moves each hour to its Paris
    day: the Paris offset is always a whole number of hours.
    """
    today = today or to_paris(utcnow()).date()
    first = today - timedelta(days=jours - 1)
    day = func.date(Inscription.created_at)
    hour = extract("hour", Inscription.created_at)
    rows = db.session.execute(
        select(day.label("jour"), hour.label("heure"), func.count().label("n"))
        .where(Inscription.session_id == session_examen.id,
               Inscription.created_at >= from_paris(datetime.combine(first, time.min)))
        .group_by(day, hour))
    counts: dict[date, int] = {}
    for r in rows:
        utc_day = r.jour if isinstance(r.jour, date) else date.fromisoformat(str(r.jour))
        paris_day = to_paris(datetime.combine(utc_day, time(int(r.heure)))).date()
        counts[paris_day] = counts.get(paris_day, 0) + r.n
    result = []
    for offset in range(jours):
        current = first + timedelta(days=offset)
        result.append(Ligne(current.strftime("%d/%m"), counts.get(current, 0), code=current.isoformat()))
    return result


def totaux(session_examen: SessionExamen) -> dict[str, int]:
    rows = db.session.execute(select(Inscription.statut, func.count()).where(
        Inscription.session_id == session_examen.id).group_by(Inscription.statut))
    found = dict(rows.all())
    return {"actives": found.get("active", 0), "annulees": found.get("annulee", 0)}


# --- establishments ------------------------------------------------------------------


def _nb_inscriptions(session_examen: SessionExamen | None):
    stmt = select(func.count(Inscription.id)).where(Inscription.etablissement_id == Etablissement.id, ACTIVE)
    if session_examen is not None:
        stmt = stmt.where(Inscription.session_id == session_examen.id)
    return stmt.correlate(Etablissement).scalar_subquery()


def _prepare_bcp():
    return exists(select(etablissement_specialites.c.etablissement_id)
                  .join(Specialite, Specialite.id == etablissement_specialites.c.specialite_id)
                  .join(Examen, Examen.id == Specialite.examen_id)
                  .where(etablissement_specialites.c.etablissement_id == Etablissement.id,
                         Examen.code == "BCP")).correlate(Etablissement)


# Sort keys accepted from the query string, mapped to columns: nothing raw reaches SQL.
TRIS = {
    "code": lambda s: (Etablissement.code,),
    "nom": lambda s: (Etablissement.cle_tri, Etablissement.code),
    "commune": lambda s: (Etablissement.cle_tri_commune, Etablissement.code),
    "inscriptions": lambda s: (_nb_inscriptions(s).desc(), Etablissement.code),
    "service": lambda s: (Etablissement.service_ouvert.desc(), Etablissement.code),
}


def etablissements_query(session_examen: SessionExamen | None, *, q: str = "", tri: str = "code") -> Select:
    stmt = select(Etablissement)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(or_(Etablissement.nom.icontains(q, autoescape=True),
                              Etablissement.code.icontains(q, autoescape=True),
                              Etablissement.commune.icontains(q, autoescape=True)))
    return stmt.order_by(*TRIS.get(tri, TRIS["code"])(session_examen))


@dataclass(frozen=True)
class SuiviEtablissement:
    etablissement: Etablissement
    nb_inscriptions: int
    prepare_bcp: bool


def suivi_etablissements(session_examen: SessionExamen | None, etabs: list[Etablissement]) -> list[SuiviEtablissement]:
    """The figures of one page of establishments, in one query."""
    ids = [e.id for e in etabs]
    if not ids:
        return []
    rows = db.session.execute(select(Etablissement.id, _nb_inscriptions(session_examen), _prepare_bcp())
                              .where(Etablissement.id.in_(ids)))
    figures = {r[0]: (r[1], r[2]) for r in rows}
    return [SuiviEtablissement(e, figures[e.id][0] or 0, bool(figures[e.id][1])) for e in etabs]


# --- audit trail ---------------------------------------------------------------------


@dataclass
class FiltreAudit:
    etablissement: str = ""
    candidat: str = ""
    acteur: str = ""
    action: str = ""
    du: date | None = None
    au: date | None = None


def _inscription_ids(session_examen: SessionExamen | None, candidat: str) -> list[str]:
    """Ids of the registrations a "candidate" filter designates: a number N or N-V, or a name."""
    numero = candidat.split("-", 1)[0].strip()
    stmt = select(Inscription.id).join(Candidat)
    if (number := plain_integer(numero)) is not None:
        stmt = stmt.where(Inscription.numero == number)
    else:
        stmt = stmt.where(or_(Candidat.nom_naissance.icontains(candidat, autoescape=True),
                              Candidat.nom_usage.icontains(candidat, autoescape=True)))
    if session_examen is not None:
        stmt = stmt.where(Inscription.session_id == session_examen.id)
    return [str(i) for i in db.session.scalars(stmt.limit(1000))]


def audit_query(filtre: FiltreAudit, session_examen: SessionExamen | None) -> Select:
    stmt = select(AuditEvent)
    if filtre.etablissement:
        stmt = stmt.where(AuditEvent.etablissement_code == filtre.etablissement.strip().upper())
    if filtre.candidat:
        ids = _inscription_ids(session_examen, filtre.candidat.strip())
        stmt = stmt.where(and_(AuditEvent.objet_type == "Inscription", AuditEvent.objet_id.in_(ids)))
    if filtre.acteur:
        stmt = stmt.where(AuditEvent.actor_label.icontains(filtre.acteur.strip(), autoescape=True))
    if filtre.action:
        stmt = stmt.where(AuditEvent.action.istartswith(filtre.action.strip(), autoescape=True))
    if filtre.du:
        stmt = stmt.where(AuditEvent.at >= from_paris(datetime.combine(filtre.du, time.min)))
    if filtre.au:
        stmt = stmt.where(AuditEvent.at < from_paris(datetime.combine(filtre.au + timedelta(days=1), time.min)))
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def actions_connues() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action).limit(300)))
