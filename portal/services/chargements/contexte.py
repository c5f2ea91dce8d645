"""What a load works on: its kind and columns, the session and establishment, the report
of its errors, and the preview's summary.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Etablissement,
    Examen,
    SessionExamen,
    Specialite,
)
from .. import ServiceError, echanges


TYPES = echanges.TYPES_CHARGEMENT
CHUNK = 5000
SAMPLE = 10
MAX_ERREURS = 10_000
UPLOAD_MAX_AGE = 24 * 3600

COLONNES = {
    "etablissements": (("code_uai", "nom", "type"), ("commune", "specialites", "ccf")),
    "specialites": (("examen", "code", "libelle", "globale", "progressive"),
                    ("europeenne", "integrable", "habilitation_requise", "acces_direct_a_verifier",
                     "validation_rectorat")),
    "eleves": (("ine", "nom", "prenoms", "date_naissance", "examen", "decision"), ("specialite", "note")),
}

UAI_RE = re.compile(r"^\d{7}[A-Z]$")
INE_RE = re.compile(r"^\d{9}[0-9A-Z][A-Z]$")
CODE_SPECIALITE_RE = re.compile(r"^[A-Z0-9]{1,10}$")
OUI = {"oui", "o", "1", "vrai", "true", "yes", "y", "x"}
NON = {"non", "n", "0", "faux", "false", "no", ""}

ETAB_CHAMPS = ("nom", "type", "commune", "ccf_habilite", "specialites")
SPECIALITE_CHAMPS = ("libelle", "forme_globale", "forme_progressive", "section_europeenne_possible",
                     "integrable", "habilitation_requise", "acces_direct_a_verifier", "validation_rectorat",
                     "actif")


class ChargementRefuse(ServiceError):
    """The file has errors: nothing is written."""

    def __init__(self, apercu: dict[str, Any]):
        n = apercu["nb_erreurs"]
        super().__init__(f"Le fichier contient {n} erreur{'s' if n > 1 else ''} : rien n'a été chargé.")
        self.apercu = apercu


# --- what a load works on -------------------------------------------------------------


@dataclass
class Rapport:
    """Line-level errors, all counted, the first MAX_ERREURS kept."""

    erreurs: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def add(self, ligne: int, colonne: str, message: str) -> None:
        self.total += 1
        if len(self.erreurs) < MAX_ERREURS:
            self.erreurs.append({"ligne": ligne, "colonne": colonne, "message": message})


@dataclass
class Contexte:
    """Reference data loaded once per load (no query per line)."""

    type: str
    session_examen: SessionExamen | None = None
    etablissement: Etablissement | None = None
    examens: dict[str, int] = field(default_factory=dict)
    specialites: dict[tuple[str, str], Specialite] = field(default_factory=dict)
    etablissements: dict[str, Etablissement] = field(default_factory=dict)


def load_context(type_: str, *, session_examen: SessionExamen | None = None,
                 etablissement: Etablissement | None = None) -> Contexte:
    if type_ not in TYPES:
        raise ServiceError("Type de chargement inconnu.", "type")
    if type_ == "eleves" and (session_examen is None or etablissement is None):
        raise ServiceError("Une base élèves se charge pour un établissement dans la session courante.",
                           "etablissement")
    ctx = Contexte(type_, session_examen, etablissement)
    ctx.examens = {e.code: e.id for e in db.session.scalars(select(Examen))}
    for spec in db.session.scalars(select(Specialite).options(selectinload(Specialite.examen))):
        ctx.specialites[(spec.examen.code, spec.code)] = spec
    if type_ == "etablissements":
        query = select(Etablissement).options(selectinload(Etablissement.specialites))
        ctx.etablissements = {e.code: e for e in db.session.scalars(query)}
    return ctx


def apercu(type_: str, lignes: int, rapport: Rapport, **counts: Any) -> dict[str, Any]:
    return {"type": type_, "lignes_valides": lignes,
            "crees": 0, "modifies": 0, "supprimes": 0, "hors_base": 0,
            "exemples": {"cree": [], "modifie": [], "purge": []}, **counts,
            "erreurs": rapport.erreurs, "nb_erreurs": rapport.total}


def par_paquets(ids: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
