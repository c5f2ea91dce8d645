"""Loads (chargements): establishments, the specialty catalogue, pupil bases.

A load has two phases. ``create_preview`` keeps the uploaded file server-side under a
random name, reads it line by line and reports what it would create, update and remove,
with every error (line and column). ``run`` re-reads and re-validates the same file
(its SHA-256 checked again) and writes everything in one transaction; a file with any
error writes nothing. Every written row leaves an ``EchangeTrace`` with its previous
values, so that ``cancel`` can undo a successful load.

A pupil base is a purge and re-import for (session, establishment): pupils missing from
the new file get ``present=False`` (their registrations, if any, are kept and flagged
``hors_base``), pupils back in the file get ``present=True``, new ones are created.
Pupil bases are staged and written set-based (``base_eleves``): the file is read once
per phase, whatever its size.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ... import generation
from ...extensions import db
from ...models import Echange, Etablissement, SessionExamen, utcnow
from .. import ServiceError, audit, echanges, verrou
from ..campagne import current_session
from .annulation import cancel
from .contexte import COLONNES, TYPES, ChargementRefuse, Contexte, load_context
from .eleves import analyse_eleves, apply_eleves
from .fichiers import discard_preview, file_path, load_preview, save_preview, sha256_of, store_upload
from .referentiels import analyse_referentiel, apply_referentiel

__all__ = ["COLONNES", "TYPES", "ChargementRefuse", "cancel", "create_preview", "discard_preview",
           "load_preview", "run"]


def analyse(ctx: Contexte, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Dry run: counts, samples of each action and every error. Writes nothing."""
    if ctx.type == "eleves":
        return analyse_eleves(ctx, path, progress)
    return analyse_referentiel(ctx, path, progress)


def apply(ctx: Contexte, echange: Echange, path: Path, progress: Callable[[int], None] | None = None) -> dict:
    """Validate the whole file again, then write it. Flushes, never commits.

    Raises ChargementRefuse (nothing written) when any line is wrong."""
    if ctx.type == "eleves":
        return apply_eleves(ctx, echange, path, progress)
    return apply_referentiel(ctx, echange, path, progress)


def create_preview(type_: str, stream: BinaryIO, nom: str | None, *, session_examen: SessionExamen | None,
                   etablissement: Etablissement | None, gestionnaire_id: int | None,
                   acteur: str) -> dict[str, Any]:
    """Keep the upload server-side, analyse it, and remember the result for ``run``.

    A refused file (errors) is recorded at once as a failed exchange with its report."""
    ctx = load_context(type_, session_examen=session_examen, etablissement=etablissement)
    meta = store_upload(stream, nom)
    meta.update(type=type_, gestionnaire_id=gestionnaire_id, created_at=utcnow().isoformat(),
                session_id=session_examen.id if session_examen else None,
                etablissement_id=etablissement.id if etablissement else None,
                etablissement_code=etablissement.code if etablissement else None)
    meta["apercu"] = analyse(ctx, file_path(meta["jeton"]))
    if meta["apercu"]["nb_erreurs"]:
        meta["echange_id"] = _record_refusal(meta, acteur=acteur).id
    save_preview(meta)
    return meta


def _record_refusal(meta: dict[str, Any], *, acteur: str) -> Echange:
    apercu = meta["apercu"]
    echange = Echange(type=meta["type"], etat="echec", acteur=acteur, gestionnaire_id=meta["gestionnaire_id"],
                      session_id=meta["session_id"], etablissement_id=meta["etablissement_id"],
                      fichier_nom=meta["nom"], fichier_sha256=meta["sha256"], fichier_taille=meta["taille"],
                      finished_at=utcnow(), nb_lignes=apercu["lignes_valides"],
                      nb_erreurs=apercu["nb_erreurs"], rapport=apercu["erreurs"],
                      message=ChargementRefuse(apercu).message)
    db.session.add(echange)
    db.session.flush()
    audit.record("echange.refuse", echange, outcome="echec",
                 details={"type": meta["type"], "fichier": meta["nom"], "erreurs": apercu["nb_erreurs"]})
    return echange


def run(meta: dict[str, Any], *, acteur: str, gestionnaire_id: int | None,
        progress: Callable[[int], None] | None = None) -> Echange:
    """Apply a previewed file as an exchange.

    This is the one place of the services that commits, and it does so on purpose: the
    running exchange must be visible to the other managers (and to a concurrent start)
    while the load writes, and its failure must be recorded after the rollback of the
    load's own transaction."""
    path = file_path(meta["jeton"])
    if not path.exists() or sha256_of(path) != meta["sha256"]:
        raise ServiceError("Le fichier déposé n'est plus disponible ou a changé depuis l'aperçu : "
                           "déposez-le à nouveau.")
    session_examen = db.session.get(SessionExamen, meta["session_id"]) if meta.get("session_id") else None
    etablissement = (db.session.get(Etablissement, meta["etablissement_id"])
                     if meta.get("etablissement_id") else None)
    echange = echanges.start(meta["type"], acteur=acteur, gestionnaire_id=gestionnaire_id,
                             session_id=meta.get("session_id") or _current_session_id(),
                             etablissement_id=meta.get("etablissement_id"),
                             fichier={"nom": meta["nom"], "sha256": meta["sha256"], "taille": meta["taille"]})
    verrou.refresh()
    db.session.commit()
    echange_id = echange.id
    try:
        ctx = load_context(meta["type"], session_examen=session_examen, etablissement=etablissement)
        counts = apply(ctx, echange, path, progress)
        echanges.finish(echange, lignes=counts["lignes"], crees=counts["cree"], modifies=counts["modifie"],
                        supprimes=counts["purge"], message=_summary(meta["type"], counts))
        if meta["type"] == "eleves":
            generation.bump()  # no trigger watches the pupils (portal/generation.py)
        db.session.commit()
    except ChargementRefuse as exc:
        _record_failure(echange_id, exc.message, exc.apercu)
        raise
    except Exception:
        _record_failure(echange_id, "Erreur inattendue pendant l'écriture : rien n'a été enregistré.")
        raise
    return echange


def _current_session_id() -> int | None:
    found = current_session()
    return found.id if found else None


def _record_failure(echange_id: int, message: str, apercu: dict | None = None) -> None:
    db.session.rollback()
    echange = db.session.get(Echange, echange_id)
    echanges.fail(echange, message, rapport=(apercu or {}).get("erreurs"),
                  nb_erreurs=(apercu or {}).get("nb_erreurs"), lignes=(apercu or {}).get("lignes_valides", 0))
    db.session.commit()


def _summary(type_: str, counts: dict[str, int]) -> str:
    text = f"{counts['cree']} créé(s), {counts['modifie']} modifié(s)"
    if type_ == "eleves":
        text += f", {counts['purge']} retiré(s) de la base"
        if counts.get("hors_base"):
            text += (f" dont {counts['hors_base']} déjà inscrit(s) (inscriptions conservées, "
                     "signalées hors base)")
    return text + "."
