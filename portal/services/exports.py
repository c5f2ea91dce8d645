"""Unloads (déchargements) of registrations to the downstream exam-organisation system.

The cursor is the session's change sequence: every creation, modification,
cancellation or reactivation gives the registration the next ``seq`` of its session,
allocated under a row lock in the writing transaction, so values are in commit order
and every value up to ``SessionExamen.dernier_changement`` is committed and visible.
"Changes since cursor c" are the registrations with ``seq > c``, in their current state
(cancellations included, with their status).

Incremental CSV unloads start after the highest ``curseur_fin`` of the successful
(acknowledged) incremental ``export_csv`` exchanges of the session and stop at the
``dernier_changement`` read when they start: each change is exported exactly once, and a
change made during an unload goes to the next one. Cancelling such an exchange in the
exchange log makes its range part of the next incremental unload again.

A full unload carries every registration up to ``dernier_changement``; its exchange is
recorded with ``curseur_debut`` NULL ("from the beginning"), which is how it is told
apart from incremental ones: it never moves the incremental cursor. Past files are not
stored: the same content is obtained again by re-running over the cursor range.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Select, func, select

from ..csvutil import neutralise
from ..extensions import db
from ..models import (
    Candidat,
    Echange,
    Etablissement,
    Examen,
    Gestionnaire,
    Inscription,
    SessionExamen,
    Specialite,
    utcnow,
)
from . import audit

CHUNK_ROWS = 1000

# (CSV header, selected column): one line per registration, in seq order.
COLONNES: tuple[tuple[str, Any], ...] = (
    ("numero", Inscription.numero),
    ("version", Inscription.version),
    ("statut", Inscription.statut),
    ("seq", Inscription.seq),
    ("source", Inscription.source),
    ("etablissement", Etablissement.code),
    ("examen", Examen.code),
    ("specialite", Specialite.code),
    ("forme", Inscription.forme),
    ("section_europeenne", Inscription.section_europeenne),
    ("nom_naissance", Candidat.nom_naissance),
    ("nom_usage", Candidat.nom_usage),
    ("prenom1", Candidat.prenom1),
    ("prenom2", Candidat.prenom2),
    ("prenom3", Candidat.prenom3),
    ("sexe", Candidat.sexe),
    ("date_naissance", Candidat.date_naissance),
    ("commune_naissance", Candidat.commune_naissance),
    ("pays_naissance", Candidat.pays_naissance),
    ("nationalite", Candidat.nationalite),
    ("ine", Candidat.ine),
    ("statut_candidat", Candidat.statut),
    ("email", Candidat.email),
    ("telephone", Candidat.telephone),
    ("adresse1", Candidat.adresse1),
    ("adresse2", Candidat.adresse2),
    ("code_postal", Candidat.code_postal),
    ("commune", Candidat.commune),
    ("pays", Candidat.pays),
    ("cree_le_utc", Inscription.created_at),
    ("modifie_le_utc", Inscription.updated_at),
    ("annulee_le_utc", Inscription.annulee_at),
)
ENTETE = tuple(name for name, _ in COLONNES)


@dataclass(frozen=True)
class Lot:
    """A range of changes to unload: ``debut < seq <= fin``; ``complet`` for a full unload."""

    session: SessionExamen
    debut: int
    fin: int
    complet: bool = False

    @property
    def fichier_nom(self) -> str:
        kind = "complet" if self.complet else f"{self.debut + 1}-{self.fin}"
        return f"inscriptions-{self.session.annee}-{kind}.csv"


@dataclass(frozen=True)
class Fichier:
    """What was written: line count, SHA-256 and size in bytes."""

    nb_lignes: int
    sha256: str
    taille: int


def incremental_cursor(session: SessionExamen) -> int:
    """End of the last acknowledged incremental CSV unload (0 when there is none)."""
    found = db.session.scalar(
        select(func.max(Echange.curseur_fin)).where(
            Echange.session_id == session.id,
            Echange.type == "export_csv",
            Echange.etat == "succes",
            Echange.curseur_debut.is_not(None),
        )
    )
    return found or 0


def current_change(session: SessionExamen) -> int:
    """The session's last allocated change number, read fresh from the database."""
    return db.session.scalar(
        select(SessionExamen.dernier_changement).where(SessionExamen.id == session.id)
    ) or 0


def plan_export(session: SessionExamen, *, complet: bool = False) -> Lot:
    fin = current_change(session)
    if complet:
        return Lot(session, 0, fin, complet=True)
    return Lot(session, min(incremental_cursor(session), fin), fin)


def changes_select(session_id: int, debut: int, fin: int | None = None) -> Select:
    """The export columns of the registrations changed in ``(debut, fin]``, by seq."""
    query = (
        select(*(column for _, column in COLONNES))
        .select_from(Inscription)
        .join(Candidat, Candidat.id == Inscription.candidat_id)
        .join(Examen, Examen.id == Inscription.examen_id)
        .join(Specialite, Specialite.id == Inscription.specialite_id)
        .outerjoin(Etablissement, Etablissement.id == Inscription.etablissement_id)
        .where(Inscription.session_id == session_id, Inscription.seq > debut)
        .order_by(Inscription.seq)
    )
    if fin is not None:
        query = query.where(Inscription.seq <= fin)
    return query


def count_changes(lot: Lot) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Inscription).where(
            Inscription.session_id == lot.session.id, Inscription.seq > lot.debut, Inscription.seq <= lot.fin)
    ) or 0


def iter_rows(lot: Lot) -> Iterator[tuple]:
    """Rows streamed from the database in chunks (server-side cursor on PostgreSQL)."""
    query = changes_select(lot.session.id, lot.debut, lot.fin).execution_options(yield_per=CHUNK_ROWS)
    for row in db.session.execute(query):
        yield tuple(row)


def _format(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ", timespec="seconds") if hasattr(value, "hour") else value.isoformat()
    return value


def write_csv(lot: Lot, out: IO[bytes], progress: Callable[[int], None] | None = None) -> Fichier:
    """Write the unload as CSV (';', UTF-8 BOM, formulas neutralised) into a binary file,
    chunk by chunk, hashing what is written."""
    digest = hashlib.sha256()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    state = {"taille": 0}

    def flush() -> None:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        digest.update(data)
        out.write(data)
        state["taille"] += len(data)

    buffer.write("\ufeff")
    writer.writerow(ENTETE)
    nb = 0
    for row in iter_rows(lot):
        writer.writerow([neutralise(_format(v)) for v in row])
        nb += 1
        if nb % CHUNK_ROWS == 0:
            flush()
            if progress:
                progress(CHUNK_ROWS)
    flush()
    if progress and nb % CHUNK_ROWS:
        progress(nb % CHUNK_ROWS)
    return Fichier(nb, digest.hexdigest(), state["taille"])


def _acteur(gestionnaire: Gestionnaire | None) -> str:
    if gestionnaire is not None:
        return gestionnaire.email
    return audit.current_actor().get("label") or "système"


def record_csv_export(lot: Lot, fichier: Fichier, *, gestionnaire: Gestionnaire | None = None,
                      fichier_nom: str | None = None) -> Echange:
    """The successful exchange of a CSV unload, with its audit event."""
    now = utcnow()
    echange = Echange(
        session_id=lot.session.id, type="export_csv", etat="succes", fichier_nom=fichier_nom or lot.fichier_nom,
        fichier_sha256=fichier.sha256, fichier_taille=fichier.taille,
        gestionnaire_id=gestionnaire.id if gestionnaire else None, acteur=_acteur(gestionnaire),
        started_at=now, finished_at=now, nb_lignes=fichier.nb_lignes,
        curseur_debut=None if lot.complet else lot.debut, curseur_fin=lot.fin,
        message=(f"Déchargement complet jusqu'au changement {lot.fin} (le curseur incrémental n'est pas modifié)."
                 if lot.complet else f"Changements {lot.debut + 1} à {lot.fin}."),
    )
    db.session.add(echange)
    db.session.flush()
    audit.record("dechargement.csv", echange, details={
        "complet": lot.complet, "curseur_debut": lot.debut, "curseur_fin": lot.fin,
        "nb_lignes": fichier.nb_lignes, "sha256": fichier.sha256})
    return echange


def record_failed_export(lot: Lot, message: str, *, gestionnaire: Gestionnaire | None = None) -> Echange:
    now = utcnow()
    echange = Echange(session_id=lot.session.id, type="export_csv", etat="echec", fichier_nom=lot.fichier_nom,
                      gestionnaire_id=gestionnaire.id if gestionnaire else None, acteur=_acteur(gestionnaire),
                      started_at=now, finished_at=now, curseur_debut=None if lot.complet else lot.debut,
                      curseur_fin=lot.fin, message=message[:2000])
    db.session.add(echange)
    db.session.flush()
    audit.record("dechargement.csv", echange, outcome="echec", details={"message": message[:500]})
    return echange


def list_exports(session: SessionExamen, limit: int = 20) -> list[Echange]:
    return list(db.session.scalars(
        select(Echange).where(Echange.session_id == session.id, Echange.type.in_(("export_csv", "export_api")))
        .order_by(Echange.started_at.desc(), Echange.id.desc()).limit(limit)
    ))


# --- JSON API ----------------------------------------------------------------------


def _iso(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "hour"):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def page_since(session: SessionExamen, since: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of changes after ``since``: (inscriptions, next_cursor, has_more)."""
    query = changes_select(session.id, since).add_columns(Specialite.libelle).limit(limit + 1)
    rows = list(db.session.execute(query))
    has_more = len(rows) > limit
    rows = rows[:limit]
    items = [as_json(row) for row in rows]
    next_cursor = items[-1]["seq"] if items else since
    return items, next_cursor, has_more


def as_json(row) -> dict[str, Any]:
    values = dict(zip(ENTETE, row))
    candidat_keys = ENTETE[ENTETE.index("nom_naissance"):ENTETE.index("pays") + 1]
    candidat = {k: _iso(values[k]) if k == "date_naissance" else values[k] for k in candidat_keys}
    candidat["statut"] = candidat.pop("statut_candidat")
    return {
        "numero": values["numero"],
        "version": values["version"],
        "numero_version": f"{values['numero']}-{values['version']}",
        "statut": values["statut"],
        "seq": values["seq"],
        "source": values["source"],
        "etablissement": values["etablissement"],
        "examen": values["examen"],
        "specialite": values["specialite"],
        "specialite_libelle": row[-1],
        "forme": values["forme"],
        "section_europeenne": bool(values["section_europeenne"]),
        "candidat": candidat,
        "cree_le": _iso(values["cree_le_utc"]),
        "modifie_le": _iso(values["modifie_le_utc"]),
        "annulee_le": _iso(values["annulee_le_utc"]),
    }


def record_api_export(session: SessionExamen, *, since: int, next_cursor: int, count: int, acteur: str) -> Echange:
    """The exchange of one API page that returned data, with its audit event."""
    now = utcnow()
    echange = Echange(session_id=session.id, type="export_api", etat="succes", acteur=acteur[:254],
                      started_at=now, finished_at=now, nb_lignes=count, curseur_debut=since,
                      curseur_fin=next_cursor, message=f"Changements {since + 1} à {next_cursor}.")
    db.session.add(echange)
    db.session.flush()
    audit.record("dechargement.api", echange, details={"curseur_debut": since, "curseur_fin": next_cursor,
                                                       "nb_lignes": count})
    return echange
