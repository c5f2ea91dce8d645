"""Registrations: the primitives every service shares (numbering, versions, cancellation).

The rule-checked flows of the registration services (``inscription`` and ``public``)
build on these; the tracking service cancels and reactivates through them.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from .. import dossier
from ..extensions import db
from ..models import Candidat, Etablissement, Inscription, InscriptionVersion, Specialite, new_token, utcnow
from . import ServiceError, audit, sequences
from .identite import cle_identite

# Unambiguous alphabet for codes read from paper (no 0/O, 1/I/L).
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_verification_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


def format_verification_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def snapshot(inscription: Inscription) -> dict[str, Any]:
    """What a confirmation prints, frozen for its version."""
    return snapshot_values(
        numero=inscription.numero, version=inscription.version, statut=inscription.statut,
        source=inscription.source,
        etablissement=inscription.etablissement.code if inscription.etablissement else None,
        examen=inscription.examen.code, specialite=inscription.specialite.code, forme=inscription.forme,
        section_europeenne=inscription.section_europeenne,
        candidat=dossier.valeurs_de(inscription.candidat))


def snapshot_values(*, numero: int, version: int, statut: str, source: str, etablissement: str | None,
                    examen: str, specialite: str, forme: str, section_europeenne: bool | None,
                    candidat: dict[str, Any]) -> dict[str, Any]:
    return {
        "numero": numero, "version": version, "statut": statut, "source": source,
        "etablissement": etablissement, "examen": examen, "specialite": specialite, "forme": forme,
        "section_europeenne": section_europeenne,
        "candidat": {k: (candidat[k].isoformat() if k == "date_naissance" else candidat[k])
                     for k in dossier.NOMS},
    }


def add_version(inscription: Inscription, *, auteur: str) -> InscriptionVersion:
    version = InscriptionVersion(inscription=inscription, version=inscription.version,
                                 donnees=snapshot(inscription), code_verification=new_verification_code(),
                                 auteur=auteur)
    db.session.add(version)
    return version


def mark_changed(inscription: Inscription) -> None:
    """Give the registration the next change number of its session (unload cursor)."""
    inscription.seq = sequences.next_changement(inscription.session_id)
    inscription.updated_at = utcnow()


DOUBLON = ("Une inscription active existe déjà pour ce candidat (même nom de naissance, prénom et date "
           "de naissance) à cet examen. Pour la modifier, revenez sur votre inscription existante ; "
           "en cas de doute, adressez-vous à votre établissement ou au rectorat.")


@dataclass(frozen=True)
class Nouvelle:
    """A registration just inserted by ``insert_row`` (not loaded as an ORM object)."""

    id: int
    numero: int
    version: int
    session_token: str

    @property
    def numero_version(self) -> str:
        return f"{self.numero}-{self.version}"


_STATEMENTS: dict[str, Any] = {}


def _statements(dialect: str) -> dict[str, Any]:
    """The INSERTs of a new registration, built once: executed with plain parameters on the
    session's connection (no per-call statement building, no ORM bulk machinery)."""
    if dialect not in _STATEMENTS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        inscriptions = Inscription.__table__
        _STATEMENTS[dialect] = {
            "candidat": insert(Candidat.__table__).returning(Candidat.__table__.c.id),
            # ON CONFLICT DO NOTHING: no row back when the unique index of active
            # registrations refuses it (no savepoint needed, on either database).
            "inscription": dialect_insert(inscriptions).on_conflict_do_nothing().returning(inscriptions.c.id),
            "version": insert(InscriptionVersion.__table__),
        }
    return _STATEMENTS[dialect]


def insert_row(*, session_id: int, candidat: dict[str, Any], auteur: str, codes: dict[str, str | None],
               audit_details: Callable[[Nouvelle], dict[str, Any]] | None = None,
               **values: Any) -> Nouvelle:
    """Insert a registration ``N-0`` with its candidate and version 0 in a few statements;
    no business rule here, and no ORM object (this is the path of every submission: on
    SQLite it runs under the write lock, which it holds for as short a time as it can).

    ``codes`` gives the etablissement / examen / specialite codes the version prints. With
    ``audit_details`` the creation is audited in the same go. Raises ServiceError when the
    person already holds an active registration for the exam: the unique index decides, so
    concurrent submissions cannot both pass; the caller rolls back (the number is given back).
    """
    values.setdefault("cle_identite", cle_identite(candidat["nom_naissance"], candidat["prenom1"],
                                                   candidat["date_naissance"]))
    now = utcnow()
    values.setdefault("created_at", now)
    values.setdefault("statut", "active")
    token = values.setdefault("session_token", new_token())
    connection = db.session.connection()
    statements = _statements(connection.dialect.name)
    numero, seq = sequences.next_numero_et_changement(session_id)
    candidat_id = connection.execute(statements["candidat"], candidat).scalar_one()
    inscription_id = connection.execute(statements["inscription"], {
        **values, "session_id": session_id, "candidat_id": candidat_id, "numero": numero, "version": 0,
        "seq": seq, "updated_at": values["created_at"]}).scalar()
    if inscription_id is None:
        raise ServiceError(DOUBLON, field="nom_naissance")
    donnees = snapshot_values(numero=numero, version=0, statut=values["statut"], source=values["source"],
                              etablissement=codes.get("etablissement"), examen=codes["examen"],
                              specialite=codes["specialite"], forme=values["forme"],
                              section_europeenne=values.get("section_europeenne"), candidat=candidat)
    connection.execute(statements["version"], {
        "inscription_id": inscription_id, "version": 0, "donnees": donnees,
        "code_verification": new_verification_code(), "auteur": auteur, "created_at": now})
    nouvelle = Nouvelle(inscription_id, numero, 0, token)
    if audit_details is not None:
        audit.insert("inscription.creee", objet_type="Inscription", objet_id=inscription_id,
                     details=audit_details(nouvelle), etablissement_code=codes.get("etablissement"))
    return nouvelle


def insert_inscription(*, session_examen, candidat: Candidat, auteur: str, **values: Any) -> Inscription:
    """``insert_row`` for callers holding ORM objects (demo data, fixtures): the candidate
    as a ``Candidat``, an optional ``eleve``; returns the loaded registration."""
    db.session.flush()
    eleve = values.pop("eleve", None)
    if eleve is not None:
        values["eleve_id"] = eleve.id
    specialite = db.session.get(Specialite, values["specialite_id"])
    codes = {"etablissement": None, "examen": specialite.examen.code, "specialite": specialite.code}
    if values.get("etablissement_id") is not None:
        codes["etablissement"] = db.session.get(Etablissement, values["etablissement_id"]).code
    # Unset attributes take the column defaults, as an ORM insert would.
    person = dossier.valeurs_de(candidat)
    person = {k: (("France" if k == "pays" else "") if v is None else v) for k, v in person.items()}
    nouvelle = insert_row(session_id=session_examen.id, auteur=auteur, codes=codes, candidat=person, **values)
    return db.session.get(Inscription, nouvelle.id)


def set_cancelled(inscription: Inscription, cancelled: bool, *, par: str) -> bool:
    """Cancel or reactivate; returns False when nothing changes.

    Reactivating fails with ServiceError if the person registered again meanwhile.
    """
    target = "annulee" if cancelled else "active"
    if inscription.statut == target:
        return False
    before = inscription.statut
    try:
        with db.session.begin_nested():
            inscription.statut = target
            inscription.annulee_at = utcnow() if cancelled else None
            inscription.annulee_par = par if cancelled else None
            mark_changed(inscription)
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError(
            f"L'inscription {inscription.numero_version} ne peut pas être réactivée : le candidat a "
            "une autre inscription active à cet examen."
        ) from exc
    audit.record("inscription.annulee" if cancelled else "inscription.reactivee", inscription,
                 details={"avant": {"statut": before}, "apres": {"statut": target}})
    return True


def apply_modification(inscription: Inscription, *, candidat_values: dict[str, Any], values: dict[str, Any],
                       auteur: str) -> None:
    """Apply a modification as version V+1; the previous versions stay in InscriptionVersion.

    Raises ServiceError when the new identity or exam collides with another active registration.
    """
    try:
        with db.session.begin_nested():
            for key, value in candidat_values.items():
                setattr(inscription.candidat, key, value)
            for key, value in values.items():
                setattr(inscription, key, value)
            inscription.version += 1
            mark_changed(inscription)
            db.session.flush()
            db.session.expire(inscription, ["examen", "specialite"])
            add_version(inscription, auteur=auteur)
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError(
            "Une autre inscription active existe déjà pour cette personne (même nom de naissance, prénom et "
            "date de naissance) à cet examen : la modification n'a pas été enregistrée. Adressez-vous au "
            "rectorat en cas de doute.",
            field="nom_naissance",
        ) from exc
