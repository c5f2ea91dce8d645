"""Normalisation of names for comparisons: case, accents and separators do not count."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

_SEPARATORS = re.compile(r"[\s\-'’‐]+")


def normaliser(value: str) -> str:
    """'Lefèvre-d’Orçay ' -> 'LEFEVRE D ORCAY'."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    without_accents = without_accents.replace("Œ", "OE").replace("œ", "oe").replace("Æ", "AE").replace("æ", "ae")
    return _SEPARATORS.sub(" ", without_accents).strip().upper()


def cle_identite(nom_naissance: str, prenom: str, date_naissance: date) -> str:
    """The key under which one person holds at most one active registration per exam."""
    return f"{normaliser(nom_naissance)}|{normaliser(prenom)}|{date_naissance.isoformat()}"[:200]
