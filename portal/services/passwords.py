"""Password hashing and the password policy shared by every account kind.

Every account password (tracking service, registration service of the school computers,
managers, accounts created from the command line) must reach a zxcvbn score of
``MIN_SCORE``: zxcvbn recognises repetitions, sequences, keyboard walks, dates and
dictionary words, here with the account's own values (establishment code, login, names)
and the list of common passwords (French ones included) as extra dictionaries.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's scale: 0-2 guessable within an offline attack's reach, 3 "safely unguessable".
MIN_SCORE = 3
# zxcvbn refuses longer input (its cost grows with the square of the length): the estimate
# reads the first characters only.
ESTIMATE_LENGTH = 72
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no account, hash anyway so timing does not tell it apart."""
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


@lru_cache(maxsize=1)
def common_password_list() -> tuple[str, ...]:
    """The common passwords, most frequent first (zxcvbn ranks a dictionary by position)."""
    try:
        lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:  # pragma: no cover - the file ships with the package
        lines = []
    return tuple(dict.fromkeys(line.strip().lower() for line in lines if line.strip()))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(common_password_list())


def password_problem(
    password: str,
    *,
    forbidden: tuple[str, ...] = (),
    user_inputs: Iterable[str | None] = (),
    current_hash: str | None = None,
    estimate: bool = True,
) -> str | None:
    """The reason a new password is refused, in French, or None when it is acceptable.

    No composition rule: length, not a known or common value, a strength estimate of at
    least ``MIN_SCORE`` (``user_inputs`` and ``forbidden``: the account's own values, which
    make a password guessable), not the previous one. ``estimate=False`` keeps the first
    rules only (candidates' secrets).
    """
    if len(password) < MIN_LENGTH:
        return f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères."
    if len(password) > MAX_LENGTH:
        return f"Le mot de passe ne peut pas dépasser {MAX_LENGTH} caractères."
    lowered = password.strip().lower()
    if any(lowered == f.strip().lower() for f in forbidden if f):
        return "Le mot de passe ne peut pas être le code de l'établissement ni un identifiant connu."
    if lowered in common_passwords():
        return "Ce mot de passe est trop courant : choisissez-en un autre, par exemple une phrase de plusieurs mots."
    if estimate:
        problem = strength_problem(password, (*forbidden, *user_inputs))
        if problem:
            return problem
    if current_hash and check_password_hash(current_hash, password):
        return "Le nouveau mot de passe doit être différent de l'actuel."
    return None


CHOOSE_ADVICE = ("Choisissez plutôt une phrase de passe : quatre ou cinq mots sans lien entre eux, "
                 "faciles à retenir pour vous, séparés par des espaces ou des tirets.")


def personal_inputs(values: Iterable[str | None]) -> list[str]:
    """The account's values and their parts (``prenom.nom@ac-x.fr`` gives ``prenom``, ``nom``...)."""
    found: list[str] = []
    for value in values:
        if not value:
            continue
        value = value.strip().lower()
        for word in (value, value.split("@")[0], *re.split(r"[\s@._'-]+", value)):
            if len(word) >= 3 and word not in found:
                found.append(word)
    return found


def strength_problem(password: str, user_inputs: Iterable[str | None] = ()) -> str | None:
    """Why zxcvbn finds the password guessable (score below ``MIN_SCORE``), or None."""
    personal = personal_inputs(user_inputs)
    result = zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=[*personal, *common_password_list()])
    if result["score"] >= MIN_SCORE:
        return None
    reasons: list[str] = []
    for match in result["sequence"]:
        reason = _reason(match, personal)
        if reason and reason not in reasons:
            reasons.append(reason)
    why = ", ".join(reasons) if reasons else "trop prévisible"
    return f"Ce mot de passe est trop facile à deviner : {why}. {CHOOSE_ADVICE}"


def _reason(match: dict, personal: list[str]) -> str | None:
    pattern = match.get("pattern")
    if pattern == "dictionary":
        if match.get("dictionary_name") == "user_inputs" and match.get("matched_word") in personal:
            return "code de l'établissement, identifiant ou nom du compte"
        return "mot courant"
    return {
        "repeat": "répétition",
        "sequence": "suite de chiffres ou de lettres",
        "spatial": "suite de touches voisines du clavier",
        "date": "date",
        "regex": "année",
    }.get(pattern)
