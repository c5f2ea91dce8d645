"""The candidate record, declared once.

A registration carries a candidate (``models.Candidat``): identity, contact and status. The
model holds the columns (type, maximum length, constraints); this module says, for each of
them, its French label, the step of the registration flow that asks it, its description in
the API, and its name in the CSV export. The step forms take their labels and lengths from
here; the registration services, the snapshot printed on confirmations, the draft of a
modification, the CSV and JSON exports and the OpenAPI document take their list of fields
from here.

Adding a field: ``docs/dossier-candidat.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import SEXES, STATUTS_CANDIDAT, Candidat


@dataclass(frozen=True)
class Champ:
    nom: str  # the attribute of models.Candidat, and the key in forms, drafts, snapshots, JSON
    libelle: str  # French label (step form, review page)
    etape: str  # the step of the registration flow that asks it: "identite" or "contact"
    description: str  # in the API's schema
    requis: bool = False  # always present in the API (a form may require more in some contexts)
    csv: str | None = None  # its column in the CSV export, when it differs from ``nom``
    valeurs: tuple[str, ...] | None = None  # the only values allowed
    format: str | None = None  # "date" for a date (ISO 8601 in the API)

    @property
    def longueur(self) -> int | None:
        """The maximum length of the model's column (None for a date)."""
        return getattr(Candidat.__table__.c[self.nom].type, "length", None)

    @property
    def colonne_csv(self) -> str:
        return self.csv or self.nom


CHAMPS: tuple[Champ, ...] = (
    Champ("nom_naissance", "Nom de naissance", "identite", "Nom de naissance.", requis=True),
    Champ("nom_usage", "Nom d'usage", "identite", "Nom d'usage (vide si aucun)."),
    Champ("prenom1", "Premier prénom", "identite", "Premier prénom.", requis=True),
    Champ("prenom2", "Deuxième prénom", "identite", "Deuxième prénom."),
    Champ("prenom3", "Troisième prénom", "identite", "Troisième prénom."),
    Champ("sexe", "Sexe", "identite", "Sexe.", requis=True, valeurs=SEXES),
    Champ("date_naissance", "Date de naissance", "identite", "Date de naissance.", requis=True, format="date"),
    Champ("commune_naissance", "Commune de naissance", "identite", "Commune de naissance."),
    Champ("pays_naissance", "Pays de naissance", "identite", "Pays de naissance."),
    Champ("nationalite", "Nationalité", "identite", "Nationalité."),
    Champ("ine", "Numéro INE (identifiant national élève)", "identite",
          "Identifiant national élève (vide si inconnu)."),
    Champ("statut", "Statut", "identite", "Statut du candidat.", requis=True, csv="statut_candidat",
          valeurs=STATUTS_CANDIDAT),
    Champ("email", "Adresse électronique", "contact", "Adresse électronique."),
    Champ("telephone", "Téléphone", "contact", "Téléphone."),
    Champ("adresse1", "Adresse", "contact", "Adresse (ligne 1)."),
    Champ("adresse2", "Complément d'adresse", "contact", "Adresse (ligne 2)."),
    Champ("code_postal", "Code postal", "contact", "Code postal."),
    Champ("commune", "Commune", "contact", "Commune de résidence."),
    Champ("pays", "Pays", "contact", "Pays de résidence."),
)
PAR_NOM: dict[str, Champ] = {c.nom: c for c in CHAMPS}
NOMS: tuple[str, ...] = tuple(PAR_NOM)


def de_l_etape(etape: str) -> tuple[str, ...]:
    return tuple(c.nom for c in CHAMPS if c.etape == etape)


def valeurs_de(candidat: Candidat) -> dict[str, Any]:
    """The record's values of a stored candidate."""
    return {nom: getattr(candidat, nom) for nom in NOMS}


def schema_json() -> dict[str, Any]:
    """The JSON schema of the record in the API (OpenAPI 3.1)."""
    proprietes = {}
    for c in CHAMPS:
        schema: dict[str, Any] = {"type": "string", "description": c.description}
        if c.valeurs:
            schema["enum"] = list(c.valeurs)
        elif c.format:
            schema["format"] = c.format
        elif c.longueur:
            schema["maxLength"] = c.longueur
        proprietes[c.nom] = schema
    return {"type": "object", "required": [c.nom for c in CHAMPS if c.requis], "properties": proprietes}
