"""Lists of an establishment's registrations, and its pupils who have not registered.

Every query is scoped to one establishment and one session: callers pass the logged-in
establishment, never an id taken from the request.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..formatting import format_date
from ..models import Candidat, Eleve, Etablissement, Examen, Inscription, SessionExamen, Specialite, libelle


@dataclass(frozen=True)
class Liste:
    """One of the five lists: its title and how its rows are grouped."""

    kind: str
    titre: str
    # None, "specialite" or "forme": the page and the PDF show a heading when it changes.
    groupe: str | None = None
    needs_specialite: bool = False
    europeenne: bool = False


LISTES = {
    "alphabetique": Liste("alphabetique", "Liste alphabétique des candidats"),
    "europeenne": Liste("europeenne", "Liste alphabétique des candidats en section européenne", europeenne=True),
    "specialite": Liste("specialite", "Liste des candidats d'une spécialité", needs_specialite=True),
    "specialites": Liste("specialites", "Liste des candidats de toutes les spécialités", groupe="specialite"),
    "formes": Liste("formes", "Liste des candidats par spécialité et forme de passage", groupe="forme"),
}

HEADER = ("Numéro-version", "Nom de naissance", "Nom d'usage", "Prénoms", "Date de naissance", "Examen",
          "Spécialité", "Forme de passage", "Section européenne", "Statut")

# French alphabetical order (``portal/collation.py``): the key of name and first name.
_ALPHABETICAL = (Candidat.cle_tri, Candidat.date_naissance, Inscription.numero)


def listes_for(etab: Etablissement) -> list[Liste]:
    """The lists offered to this establishment (the European one only where it runs sections)."""
    return [liste for liste in LISTES.values() if not liste.europeenne or runs_sections(etab)]


def runs_sections(etab: Etablissement) -> bool:
    return bool(etab.prepare_bcp and etab.section_europeenne)


def inscriptions_of(etab: Etablissement, session_examen: SessionExamen) -> Select:
    """The establishment's registrations of the session, with what a list row shows."""
    return (
        select(Inscription)
        .join(Inscription.candidat)
        .join(Inscription.specialite)
        .join(Inscription.examen)
        .where(Inscription.etablissement_id == etab.id, Inscription.session_id == session_examen.id)
        .options(joinedload(Inscription.candidat), joinedload(Inscription.specialite),
                 joinedload(Inscription.examen))
    )


def list_query(etab: Etablissement, session_examen: SessionExamen, kind: str, *,
               specialite: Specialite | None = None, exclure_annulees: bool = False) -> Select:
    stmt = inscriptions_of(etab, session_examen)
    if exclure_annulees:
        stmt = stmt.where(Inscription.statut == "active")
    if kind == "europeenne":
        stmt = stmt.where(Inscription.section_europeenne.is_(True))
    if kind == "specialite":
        stmt = stmt.where(Inscription.specialite_id == specialite.id)
    if kind == "specialites":
        return stmt.order_by(Examen.ordre, Specialite.code, *_ALPHABETICAL)
    if kind == "formes":
        return stmt.order_by(Examen.ordre, Specialite.code, Inscription.forme, *_ALPHABETICAL)
    return stmt.order_by(*_ALPHABETICAL)


def specialite_of(etab: Etablissement, specialite_id: int | None) -> Specialite | None:
    """One of the specialties the establishment prepares, or None."""
    return next((s for s in etab.specialites if s.id == specialite_id), None)


def row(inscription: Inscription) -> tuple:
    """A list row, as the CSV writes it."""
    c = inscription.candidat
    return (inscription.numero_version, c.nom_naissance, c.nom_usage, c.prenoms, format_date(c.date_naissance),
            inscription.examen.code, f"{inscription.specialite.code} {inscription.specialite.libelle}",
            libelle(inscription.forme, "forme"), {True: "oui", False: "non"}.get(inscription.section_europeenne, ""),
            libelle(inscription.statut, "statut_inscription"))


def counts(etab: Etablissement, session_examen: SessionExamen) -> dict[str, int]:
    """Active, cancelled and European-section registrations of the establishment."""
    scope = and_(Inscription.etablissement_id == etab.id, Inscription.session_id == session_examen.id)
    result = db.session.execute(
        select(
            func.count().filter(Inscription.statut == "active"),
            func.count().filter(Inscription.statut == "annulee"),
            func.count().filter(Inscription.statut == "active", Inscription.section_europeenne.is_(True)),
        ).where(scope)
    ).one()
    return {"actives": result[0] or 0, "annulees": result[1] or 0, "europeennes": result[2] or 0}


def counts_by_specialite(etab: Etablissement, session_examen: SessionExamen) -> list[tuple[Specialite, int]]:
    """Active registrations per specialty prepared by the establishment (zero included)."""
    found = dict(db.session.execute(
        select(Inscription.specialite_id, func.count())
        .where(Inscription.etablissement_id == etab.id, Inscription.session_id == session_examen.id,
               Inscription.statut == "active")
        .group_by(Inscription.specialite_id)
    ).all())
    return [(s, found.get(s.id, 0)) for s in etab.specialites]


def eleve_inscrit(eleve_session_id) -> Select:
    """The one rule of "registered" for a pupil of a base (correlated to ``Eleve``): an active
    registration of the session linked to the pupil, or carrying its INE for its exam."""
    return select(Inscription.id).join(Inscription.candidat).where(
        Inscription.session_id == eleve_session_id,
        Inscription.statut == "active",
        or_(Inscription.eleve_id == Eleve.id,
            and_(Candidat.ine == Eleve.ine, Candidat.ine != "", Inscription.examen_id == Eleve.examen_id)),
    ).correlate(Eleve)


def eleves_non_inscrits(etab: Etablissement, session_examen: SessionExamen) -> Select:
    """Pupils still in the establishment's base with no active registration (by pupil or INE).

    The one rule of the head's page and of the manager's page of the establishment."""
    return (
        select(Eleve)
        .where(Eleve.etablissement_id == etab.id, Eleve.session_id == session_examen.id,
               Eleve.present.is_(True), ~exists(eleve_inscrit(session_examen.id)))
        .options(joinedload(Eleve.examen), joinedload(Eleve.specialite))
        .order_by(Eleve.cle_tri, Eleve.date_naissance, Eleve.id)
    )


def inscriptions_hors_base(etab: Etablissement, session_examen: SessionExamen) -> Select:
    """Active registrations of pupils who are no longer in the establishment's base (cancelled
    ones are left out: nothing is to be done about them). Both pages use it."""
    return (inscriptions_of(etab, session_examen)
            .where(Inscription.hors_base.is_(True), Inscription.statut == "active")
            .order_by(*_ALPHABETICAL))


def eleve_row(eleve: Eleve) -> tuple:
    specialite = f"{eleve.specialite.code} {eleve.specialite.libelle}" if eleve.specialite else ""
    return (eleve.ine, eleve.nom, eleve.prenoms, format_date(eleve.date_naissance), eleve.examen.code,
            specialite, libelle(eleve.decision, "decision"))


ELEVE_HEADER = ("INE", "Nom", "Prénoms", "Date de naissance", "Examen", "Spécialité", "Décision")
