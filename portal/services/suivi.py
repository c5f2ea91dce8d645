"""Follow-up of the campaign: dashboard figures, establishments, the audit trail.

Every figure comes from one aggregated query (GROUP BY), never a query per row.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, case, exists, extract, func, or_, select

from ..extensions import db
from ..formatting import from_paris, plain_integer, to_paris
from ..models import (
    AuditEvent,
    Candidat,
    Eleve,
    Etablissement,
    Examen,
    Inscription,
    SessionExamen,
    Specialite,
    etablissement_specialites,
    utcnow,
)
from . import campagne
from .listes import eleve_inscrit  # the one rule of "registered" for a pupil of a base

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


# --- deciding before closing: the campaign day by day, the share of each pupil base ----


@dataclass(frozen=True)
class JourCampagne:
    """One Paris day of an exam's campaign: registrations created that day (still active)
    and the running total; ``passe`` is False for the days still to come."""

    jour: date
    inscrites: int
    cumul: int
    passe: bool


@dataclass(frozen=True)
class CampagneExamen:
    """An exam's campaign: its days (Paris days, from opening to closing as the calendar
    says, else from the first registration to today) and what they gathered."""

    code: str
    libelle: str
    debut: date | None
    fin: date | None
    jours: tuple[JourCampagne, ...]
    total: int
    derniers_jours: int  # created during the last 7 days (today included)

    @property
    def jours_ecoules(self) -> int:
        return sum(1 for j in self.jours if j.passe)


MAX_JOURS_CAMPAGNE = 180  # a campaign lasts weeks; a calendar typed wrong never draws years


def _paris_day(jour, heure) -> date:
    """The Paris day of a UTC date and hour (the Paris offset is a whole number of hours)."""
    utc_day = jour if isinstance(jour, date) else date.fromisoformat(str(jour))
    return to_paris(datetime.combine(utc_day, time(int(heure)))).date()


def _fenetres(session_examen: SessionExamen) -> dict[int | None, tuple[datetime | None, datetime | None]]:
    """Earliest opening and latest closing (late window included) of each exam's calendar
    rows, both services together; key None: the rows that apply to every exam. Read from the
    calendar the registration rules already keep per request (``campagne._calendrier``)."""
    found: dict[int | None, tuple[datetime | None, datetime | None]] = {}
    for r in campagne._calendrier(session_examen.id).lignes.values():
        end = r.fin_tardive or r.fin
        debut, fin = found.get(r.examen_id, (None, None))
        found[r.examen_id] = (min((d for d in (debut, r.debut) if d), default=None),
                              max((d for d in (fin, end) if d), default=None))
    return found


def campagne_par_jour(session_examen: SessionExamen, *, today: date | None = None) -> list[CampagneExamen]:
    """For each exam with registrations or a calendar row of its own, its campaign day by
    day: active registrations created each Paris day, and their running total, against the
    days of its campaign (the manager sees how far the campaign is and how far the
    registrations are).

    One query, the counts per exam, UTC date and hour (moved to Paris days in Python, as
    ``par_jour`` does); the calendar is the one the registration rules keep."""
    today = today or to_paris(utcnow()).date()
    fenetres = _fenetres(session_examen)
    day, hour = func.date(Inscription.created_at), extract("hour", Inscription.created_at)
    rows = db.session.execute(
        select(Examen.id, Examen.code, Examen.libelle, Examen.ordre, day.label("jour"), hour.label("heure"),
               func.count(Inscription.id).label("n"))
        .select_from(Examen)
        .outerjoin(Inscription, and_(Inscription.examen_id == Examen.id,
                                     Inscription.session_id == session_examen.id, ACTIVE))
        .group_by(Examen.id, Examen.code, Examen.libelle, Examen.ordre, day, hour)
        .order_by(Examen.ordre))
    examens: dict[int, tuple[str, str]] = {}
    counts: dict[int, dict[date, int]] = {}
    for r in rows:
        examens[r.id] = (r.code, r.libelle)
        if r.n:
            per_day = counts.setdefault(r.id, {})
            paris = _paris_day(r.jour, r.heure)
            per_day[paris] = per_day.get(paris, 0) + r.n
    result = []
    for examen_id, (code, libelle_examen) in examens.items():
        per_day = counts.get(examen_id, {})
        if not per_day and examen_id not in fenetres:
            continue  # neither a calendar row of its own nor a registration: nothing to follow
        debut_at, fin_at = fenetres.get(examen_id, (None, None))
        globale = fenetres.get(None, (None, None))
        debut_at, fin_at = debut_at or globale[0], fin_at or globale[1]
        debut = to_paris(debut_at).date() if debut_at else None
        fin = to_paris(fin_at).date() if fin_at else None
        first = min([d for d in (debut, min(per_day, default=None)) if d] or [today])
        last = max([d for d in (fin, max(per_day, default=None), today if fin is None else None) if d])
        last = min(max(last, first), first + timedelta(days=MAX_JOURS_CAMPAGNE - 1))
        jours, cumul = [], sum(n for d, n in per_day.items() if d < first)
        current = first
        while current <= last:
            cumul += per_day.get(current, 0)
            jours.append(JourCampagne(current, per_day.get(current, 0), cumul, current <= today))
            current += timedelta(days=1)
        recent = sum(n for d, n in per_day.items() if today - timedelta(days=6) <= d <= today)
        result.append(CampagneExamen(code, libelle_examen, debut, fin, tuple(jours), sum(per_day.values()),
                                     recent))
    return result


def avancement_campagne(session_examen: SessionExamen, *, now: datetime | None = None) -> float | None:
    """The share (0 to 1) of the establishments' campaign already elapsed (the global row
    of the ``etablissement`` service: opening to normal closing), None when its dates are
    not both known."""
    row = campagne._calendrier(session_examen.id).lignes.get(("etablissement", None))
    if row is None or row.debut is None or row.fin is None:
        return None
    now = now or utcnow()
    total = (row.fin - row.debut).total_seconds()
    return min(1.0, max(0.0, (now - row.debut).total_seconds() / total))


@dataclass(frozen=True)
class PartBase:
    """An establishment's pupil base and how much of it is registered."""

    code: str
    nom: str
    base: int
    inscrits: int
    en_retard: bool = False

    @property
    def part(self) -> float:
        return self.inscrits / self.base if self.base else 0.0


def part_base_inscrite(session_examen: SessionExamen, *, avancement: float | None = None) -> list[PartBase]:
    """For each establishment with a pupil base, the share of its pupils (present in the
    base) with an active registration, the same rule as its "élèves non inscrits" page
    (``listes.eleve_inscrit``: by pupil or by INE and exam); largest share first. With the
    campaign's ``avancement`` (0 to 1), an establishment whose share is below it is late:
    the page makes it stand out. One query."""
    registered = exists(eleve_inscrit(session_examen.id))
    rows = db.session.execute(
        select(Etablissement.code, Etablissement.nom, func.count(Eleve.id).label("base"),
               func.sum(case((registered, 1), else_=0)).label("inscrits"))
        .join(Eleve, Eleve.etablissement_id == Etablissement.id)
        .where(Eleve.session_id == session_examen.id, Eleve.present.is_(True))
        .group_by(Etablissement.id, Etablissement.code, Etablissement.nom))
    parts = [PartBase(r.code, r.nom, r.base, int(r.inscrits or 0)) for r in rows]
    if avancement is not None:
        parts = [replace(p, en_retard=p.part < avancement) for p in parts]
    return sorted(parts, key=lambda p: (-p.part, -p.base, p.code))


@dataclass(frozen=True)
class GroupeExamen:
    """The specialties of one exam on the dashboard, most requested first."""

    code: str
    libelle: str
    lignes: tuple[Ligne, ...]


def specialites_par_examen(session_examen: SessionExamen) -> list[GroupeExamen]:
    """Registrations per specialty, grouped by exam (in the exams' order) and named by exam
    and label: the rows of ``par_specialite`` in groups, in one query."""
    actives, annulees = _counts()
    rows = db.session.execute(
        select(Examen.code.label("examen"), Examen.libelle.label("examen_libelle"), Specialite.code,
               Specialite.libelle, actives, annulees)
        .join(Inscription, Inscription.specialite_id == Specialite.id)
        .join(Examen, Examen.id == Specialite.examen_id)
        .where(Inscription.session_id == session_examen.id)
        .group_by(Specialite.id, Examen.code, Examen.libelle, Examen.ordre, Specialite.code,
                  Specialite.libelle)
        .order_by(Examen.ordre, actives.desc(), Specialite.code))
    groupes: dict[str, tuple[str, list[Ligne]]] = {}
    for r in rows:
        groupes.setdefault(r.examen, (r.examen_libelle, []))[1].append(
            Ligne(f"{r.examen} {r.code} – {r.libelle}", r.actives, r.annulees, code=r.code))
    return [GroupeExamen(code, libelle_examen, tuple(lignes))
            for code, (libelle_examen, lignes) in groupes.items()]
