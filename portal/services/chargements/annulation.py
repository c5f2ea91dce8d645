"""Cancelling a successful load: rows it created are deleted, rows it changed get their
previous values back, from the exchange's traces.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import delete, exists, select, update

from ... import generation
from ...extensions import db
from ...models import (
    AutorisationTardive,
    Echange,
    EchangeTrace,
    Eleve,
    Etablissement,
    HistoriqueStatut,
    Inscription,
    LaissezPasser,
    Specialite,
    StatutPublication,
    cles_tri,
    etablissement_specialites,
    utcnow,
)
from .. import ServiceError, audit, echanges, verrou
from .contexte import CHUNK, TYPES, par_paquets


# --- cancelling a load ------------------------------------------------------------------


def _trace_chunks(echange_id: int, objet: str, action: str) -> Iterator[list[EchangeTrace]]:
    last = 0
    while True:
        chunk = db.session.scalars(select(EchangeTrace).where(
            EchangeTrace.echange_id == echange_id, EchangeTrace.objet == objet, EchangeTrace.action == action,
            EchangeTrace.id > last).order_by(EchangeTrace.id).limit(CHUNK)).all()
        if not chunk:
            return
        last = chunk[-1].id
        yield chunk


def _ids(echange_id: int, objet: str, action: str) -> list[int]:
    return [t.objet_id for chunk in _trace_chunks(echange_id, objet, action) for t in chunk]


REFERENCES = {
    "Etablissement": ((Inscription.etablissement_id, "des inscriptions"),
                      (Eleve.etablissement_id, "une base élèves"),
                      (Echange.etablissement_id, "un chargement de base élèves"),
                      (AutorisationTardive.etablissement_id, "des autorisations tardives")),
    "Specialite": ((Inscription.specialite_id, "des inscriptions"), (Eleve.specialite_id, "des élèves"),
                   (etablissement_specialites.c.specialite_id, "des établissements qui la préparent")),
    "Eleve": ((Inscription.eleve_id, "des inscriptions"), (LaissezPasser.eleve_id, "des laissez-passer")),
}
NOMS_OBJETS = {"Etablissement": "établissements", "Specialite": "spécialités", "Eleve": "élèves"}


def _check_cancellable(echange: Echange) -> None:
    if echange.type not in TYPES:
        raise ServiceError("Seul un chargement peut être annulé.")
    if echange.etat != "succes":
        raise ServiceError("Seul un chargement réussi peut être annulé.")
    if verrou.current() is None:
        raise ServiceError("Verrouillez la base avant d'annuler un chargement.")
    later = EchangeTrace.__table__.alias("ulterieure")
    conflict = db.session.scalar(
        select(Echange.id).join(later, later.c.echange_id == Echange.id)
        .join(EchangeTrace, (EchangeTrace.objet == later.c.objet)
              & (EchangeTrace.objet_id == later.c.objet_id))
        .where(EchangeTrace.echange_id == echange.id, Echange.id > echange.id, Echange.etat == "succes")
        .limit(1))
    if conflict is not None:
        raise ServiceError(f"Impossible d'annuler : le chargement n° {conflict}, plus récent, a modifié "
                           "les mêmes données. Annulez-le d'abord.")
    for objet, references in REFERENCES.items():
        created = _ids(echange.id, objet, "cree")
        for column, what in references:
            for chunk in par_paquets(created):
                if db.session.scalar(select(exists().where(column.in_(chunk)))):
                    raise ServiceError(f"Impossible d'annuler : des {NOMS_OBJETS[objet]} créés par ce "
                                       f"chargement sont maintenant utilisés par {what}.")


def cancel(echange: Echange, *, acteur: str) -> dict[str, int]:
    """Undo a successful load: remove what it created, restore what it updated or purged."""
    _check_cancellable(echange)
    counts = {"supprimes": 0, "restaures": 0}
    for chunk in _trace_chunks(echange.id, "Inscription", "modifie"):
        for trace in chunk:
            db.session.execute(update(Inscription).where(Inscription.id == trace.objet_id)
                               .values(hors_base=trace.avant["hors_base"])
                               .execution_options(synchronize_session=False))
    for objet, model in (("Eleve", Eleve), ("Etablissement", Etablissement), ("Specialite", Specialite)):
        counts["restaures"] += _restore(echange.id, objet, model)
        counts["supprimes"] += _delete_created(echange.id, objet, model)
    echange.etat = "annule"
    echange.annule_at = utcnow()
    echange.annule_par = acteur
    db.session.flush()
    audit.record("echange.annule", echange, details={**echanges.counts(echange), **counts})
    if echange.type == "eleves":
        generation.bump()  # no trigger watches the pupils (portal/generation.py)
    return counts


def _restore(echange_id: int, objet: str, model) -> int:
    count = 0
    for action in ("modifie", "purge"):
        for chunk in _trace_chunks(echange_id, objet, action):
            count += len(chunk)
            if model is Eleve:
                db.session.execute(update(Eleve), [_eleve_values(t) for t in chunk])
                continue
            for trace in chunk:
                obj = db.session.get(model, trace.objet_id)
                values = dict(trace.avant)
                if "specialites" in values:
                    ids = values.pop("specialites")
                    obj.specialites = list(db.session.scalars(
                        select(Specialite).where(Specialite.id.in_(ids))))
                for key, value in values.items():
                    setattr(obj, key, value)
    db.session.flush()
    return count


def _eleve_values(trace: EchangeTrace) -> dict[str, Any]:
    values = {"id": trace.objet_id, **trace.avant}
    values["date_naissance"] = date.fromisoformat(values["date_naissance"])
    values.update(cles_tri("eleves", values))  # a bulk UPDATE runs no ORM event
    return values


def _delete_created(echange_id: int, objet: str, model) -> int:
    ids = _ids(echange_id, objet, "cree")
    for chunk in par_paquets(ids):
        if model is Etablissement:
            db.session.execute(delete(etablissement_specialites)
                               .where(etablissement_specialites.c.etablissement_id.in_(chunk)))
        if model is Specialite:
            db.session.execute(delete(StatutPublication).where(StatutPublication.specialite_id.in_(chunk)))
            db.session.execute(delete(HistoriqueStatut).where(HistoriqueStatut.specialite_id.in_(chunk)))
        db.session.execute(delete(model).where(model.id.in_(chunk))
                           .execution_options(synchronize_session=False))
    if ids:
        db.session.expire_all()
    return len(ids)
