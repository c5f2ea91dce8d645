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


def probleme_date_naissance(naissance: date, today: date | None = None) -> str | None:
    """What is wrong with a birth date, or None. One rule for the candidate's form, the
    final check of a registration and the pupil-base loads: not after today, and plausible
    (between 1 January 80 years ago and 31 December 12 years ago)."""
    today = today or date.today()
    if naissance > today:
        return "La date de naissance ne peut pas être dans le futur."
    oldest, youngest = date(today.year - 80, 1, 1), date(today.year - 12, 12, 31)
    if naissance < oldest:
        return (f"Cette date de naissance n'est pas plausible (avant le {oldest:%d/%m/%Y}, plus de 80 ans) : "
                "vérifiez l'année.")
    if naissance > youngest:
        return (f"Cette date de naissance n'est pas plausible (après le {youngest:%d/%m/%Y}, moins de 12 ans) : "
                "vérifiez l'année.")
    return None
