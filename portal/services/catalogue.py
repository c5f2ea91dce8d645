"""Publication of the specialty catalogue: one status per specialty and session.

Automatic statuses come from the catalogue data through ``REGLES``, a rule table read in
priority order (highest first): the first rule whose condition holds gives the status.
The order is the one the rectorate fixed:

    a_publier > a_publier_validation > a_publier_acces_direct > a_publier_habilitation
    > non_integrable

so a specialty both "soumise à validation" and "à vérifier (accès direct)" is
``a_publier_validation``. Every "à publier" rule requires the specialty to be eligible
(integrable and active); ``non_integrable`` is the fallback.

A manager's action freezes a status (``gele``): the nightly computation no longer touches
it. "non_publie" stays; "pret" may only become "publie" (by the nightly publication of
ready specialties, or a manager's "Publier"). "Remettre en calcul automatique" unfreezes.
Every change appends a ``HistoriqueStatut`` row and an audit event.

Candidates are offered only specialties whose status is ``publie`` for the session:
see ``published_specialite_ids``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import HistoriqueStatut, SessionExamen, Specialite, StatutPublication, libelle, utcnow
from . import ServiceError, audit


def _eligible(s: Specialite) -> bool:
    return bool(s.integrable and s.actif)


def _sans_condition(s: Specialite) -> bool:
    return not (s.validation_rectorat or s.acces_direct_a_verifier or s.habilitation_requise)


@dataclass(frozen=True)
class Regle:
    statut: str
    condition: Callable[[Specialite], bool]
    description: str


# Highest priority first: the first matching rule gives the automatic status.
REGLES: tuple[Regle, ...] = (
    Regle("a_publier", lambda s: _eligible(s) and _sans_condition(s),
          "intégrable, sans condition à vérifier"),
    Regle("a_publier_validation", lambda s: _eligible(s) and s.validation_rectorat,
          "intégrable, soumise à validation du rectorat"),
    Regle("a_publier_acces_direct", lambda s: _eligible(s) and s.acces_direct_a_verifier,
          "intégrable, accès direct à vérifier"),
    Regle("a_publier_habilitation", lambda s: _eligible(s) and s.habilitation_requise,
          "intégrable, sous condition d'habilitation"),
    Regle("non_integrable", lambda s: True, "non intégrable ou inactive"),
)
AUTOMATIQUES = frozenset(r.statut for r in REGLES)
A_PUBLIER = frozenset(s for s in AUTOMATIQUES if s.startswith("a_publier"))

CAUSE_RECALCUL = "recalcul automatique"
CAUSE_PUBLICATION = "publication des spécialités prêtes"


def automatic_status(specialite: Specialite, regles: tuple[Regle, ...] = REGLES) -> str:
    return next(r.statut for r in regles if r.condition(specialite))


def published_specialite_ids(session_examen: SessionExamen) -> Select:
    """Ids of the specialties offered to candidates: use as ``Specialite.id.in_(...)``."""
    return select(StatutPublication.specialite_id).where(
        StatutPublication.session_id == session_examen.id, StatutPublication.statut == "publie")


def is_published(session_examen: SessionExamen, specialite: Specialite) -> bool:
    return db.session.scalar(published_specialite_ids(session_examen)
                             .where(StatutPublication.specialite_id == specialite.id)) is not None


def _set_status(session_examen: SessionExamen, specialite: Specialite, row: StatutPublication | None,
                nouveau: str, *, cause: str, auteur: str, gele: bool | None = None) -> StatutPublication:
    """Apply a status change, with its history row and audit event."""
    ancien = row.statut if row is not None else None
    if row is None:
        row = StatutPublication(session_id=session_examen.id, specialite=specialite, statut=nouveau,
                                gele=bool(gele))
        db.session.add(row)
    else:
        row.statut = nouveau
        if gele is not None:
            row.gele = gele
        row.updated_at = utcnow()
    db.session.add(HistoriqueStatut(session_id=session_examen.id, specialite_id=specialite.id, ancien=ancien,
                                    nouveau=nouveau, cause=cause[:255], auteur=auteur[:254]))
    audit.record("catalogue.statut_modifie", specialite, details={
        "session": session_examen.annee, "avant": {"statut": ancien}, "apres": {"statut": nouveau, "gele": row.gele},
        "cause": cause})
    return row


@dataclass
class Recalcul:
    """Outcome of a nightly computation: statuses after it, and the changes made."""

    par_statut: Counter = field(default_factory=Counter)
    changements: list[tuple[str, str | None, str]] = field(default_factory=list)


def recompute_statuses(session_examen: SessionExamen, *, auteur: str = "calcul automatique",
                       publier: bool = True, progress: Callable[[int], None] | None = None) -> Recalcul:
    """Compute the automatic statuses; frozen ones stay, except "pret" which becomes
    "publie" when ``publier`` (the nightly publication of ready specialties)."""
    rows = {row.specialite_id: row for row in db.session.scalars(
        select(StatutPublication).where(StatutPublication.session_id == session_examen.id))}
    result = Recalcul()
    for specialite in db.session.scalars(select(Specialite).order_by(Specialite.id)):
        row = rows.get(specialite.id)
        nouveau, cause = _next_status(specialite, row, publier)
        if nouveau is not None:
            result.changements.append((specialite.code, row.statut if row else None, nouveau))
            row = _set_status(session_examen, specialite, row, nouveau, cause=cause, auteur=auteur)
        result.par_statut[row.statut] += 1
        if progress:
            progress(1)
    db.session.flush()
    return result


def _next_status(specialite: Specialite, row: StatutPublication | None, publier: bool) -> tuple[str | None, str]:
    if row is not None and row.gele:
        if row.statut == "pret" and publier:
            return "publie", CAUSE_PUBLICATION
        return None, ""
    statut = automatic_status(specialite)
    if row is not None and row.statut == statut:
        return None, ""
    return statut, CAUSE_RECALCUL


# --- manager actions ------------------------------------------------------------------

ACTIONS = {
    "retirer": "Retirer de la publication",
    "marquer_pret": "Marquer prêt pour publication",
    "publier": "Publier",
    "remettre_auto": "Remettre en calcul automatique",
}


def status_of(session_examen: SessionExamen, specialite: Specialite) -> StatutPublication | None:
    return db.session.scalar(select(StatutPublication).where(StatutPublication.session_id == session_examen.id,
                                                            StatutPublication.specialite_id == specialite.id))


def allowed_actions(row: StatutPublication | None) -> list[str]:
    statut = row.statut if row is not None else None
    actions = []
    if statut != "non_publie":
        actions.append("retirer")
    if statut is None or statut in A_PUBLIER:
        actions.append("marquer_pret")
    if statut == "pret":
        actions.append("publier")
    if row is not None and row.gele:
        actions.append("remettre_auto")
    return actions


def apply_action(session_examen: SessionExamen, specialite: Specialite, action: str, *,
                 auteur: str) -> StatutPublication:
    """A manager's action on a specialty's status; ServiceError when not allowed now."""
    if action not in ACTIONS:
        raise ServiceError("Action inconnue.")
    row = status_of(session_examen, specialite)
    if row is None:
        # Never computed yet: start from the automatic status.
        row = _set_status(session_examen, specialite, None, automatic_status(specialite),
                          cause="calcul initial", auteur=auteur)
    if action not in allowed_actions(row):
        raise ServiceError(_refusal(action, row))
    cause = f"action du gestionnaire : {ACTIONS[action].lower()}"
    if action == "retirer":
        row = _set_status(session_examen, specialite, row, "non_publie", cause=cause, auteur=auteur, gele=True)
    elif action == "marquer_pret":
        row = _set_status(session_examen, specialite, row, "pret", cause=cause, auteur=auteur, gele=True)
    elif action == "publier":
        row = _set_status(session_examen, specialite, row, "publie", cause=cause, auteur=auteur, gele=True)
    else:
        row = _set_status(session_examen, specialite, row, automatic_status(specialite), cause=cause,
                          auteur=auteur, gele=False)
    db.session.flush()
    return row


def _refusal(action: str, row: StatutPublication) -> str:
    actuel = libelle(row.statut, "statut_publication").lower()
    if action == "publier":
        return f"Seule une spécialité prête pour publication peut être publiée (statut actuel : {actuel})."
    if action == "marquer_pret":
        return f"Seule une spécialité « à publier » peut être marquée prête (statut actuel : {actuel})."
    if action == "retirer":
        return "Cette spécialité est déjà retirée de la publication."
    return "Ce statut est déjà calculé automatiquement."


def history(session_examen: SessionExamen, specialite: Specialite) -> list[HistoriqueStatut]:
    return list(db.session.scalars(
        select(HistoriqueStatut).where(HistoriqueStatut.session_id == session_examen.id,
                                       HistoriqueStatut.specialite_id == specialite.id)
        .order_by(HistoriqueStatut.at.desc(), HistoriqueStatut.id.desc())))


def catalogue_select(session_examen: SessionExamen, *, examen_id: int | None = None,
                     statut: str | None = None) -> Select:
    """Specialties of the catalogue page (filtered on exam and status), exam loaded."""
    query = (
        select(Specialite)
        .outerjoin(StatutPublication, (StatutPublication.specialite_id == Specialite.id)
                   & (StatutPublication.session_id == session_examen.id))
        .options(joinedload(Specialite.examen))
        .order_by(Specialite.examen_id, Specialite.code, Specialite.id)
    )
    if examen_id is not None:
        query = query.where(Specialite.examen_id == examen_id)
    if statut is not None:
        query = query.where(StatutPublication.statut == statut)
    return query


def statuses_for(session_examen: SessionExamen, specialite_ids: list[int]) -> dict[int, StatutPublication]:
    """The status rows of a page of specialties, in one query."""
    if not specialite_ids:
        return {}
    return {row.specialite_id: row for row in db.session.scalars(
        select(StatutPublication).where(StatutPublication.session_id == session_examen.id,
                                        StatutPublication.specialite_id.in_(specialite_ids)))}
