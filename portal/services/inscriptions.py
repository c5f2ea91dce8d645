"""Registrations: the primitives every service shares (numbering, versions, cancellation).

The rule-checked flows of the registration services (``inscription`` and ``public``)
build on these; the tracking service cancels and reactivates through them.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Candidat, Inscription, InscriptionVersion, utcnow
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
    c = inscription.candidat
    return {
        "numero": inscription.numero,
        "version": inscription.version,
        "statut": inscription.statut,
        "source": inscription.source,
        "etablissement": inscription.etablissement.code if inscription.etablissement else None,
        "examen": inscription.examen.code,
        "specialite": inscription.specialite.code,
        "forme": inscription.forme,
        "section_europeenne": inscription.section_europeenne,
        "candidat": {
            "nom_naissance": c.nom_naissance, "nom_usage": c.nom_usage, "prenom1": c.prenom1,
            "prenom2": c.prenom2, "prenom3": c.prenom3, "sexe": c.sexe,
            "date_naissance": c.date_naissance.isoformat(), "commune_naissance": c.commune_naissance,
            "pays_naissance": c.pays_naissance, "nationalite": c.nationalite, "ine": c.ine,
            "statut": c.statut, "email": c.email, "telephone": c.telephone, "adresse1": c.adresse1,
            "adresse2": c.adresse2, "code_postal": c.code_postal, "commune": c.commune, "pays": c.pays,
        },
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


def insert_inscription(*, session_examen, candidat: Candidat, auteur: str, **values: Any) -> Inscription:
    """Insert a registration with the next number N and version 0; no business rule here.

    Raises ServiceError when the person already holds an active registration for the
    exam (the database's unique index decides, so concurrent submissions cannot both pass).
    """
    db.session.add(candidat)
    db.session.flush()
    values.setdefault("cle_identite", cle_identite(candidat.nom_naissance, candidat.prenom1, candidat.date_naissance))
    try:
        with db.session.begin_nested():
            inscription = Inscription(session_id=session_examen.id, candidat=candidat, version=0,
                                      numero=sequences.next_numero(session_examen.id), **values)
            db.session.add(inscription)
            db.session.flush()
            mark_changed(inscription)
            add_version(inscription, auteur=auteur)
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError(
            "Une inscription active existe déjà pour ce candidat (même nom de naissance, prénom et date "
            "de naissance) à cet examen. Pour la modifier, revenez sur votre inscription existante ; "
            "en cas de doute, adressez-vous à votre établissement ou au rectorat.",
            field="nom_naissance",
        ) from exc
    return inscription


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
