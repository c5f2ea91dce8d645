"""Password hashing and the password policy shared by every account kind."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 256
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
def common_passwords() -> frozenset[str]:
    try:
        lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:  # pragma: no cover - the file ships with the package
        lines = []
    return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(
    password: str,
    *,
    forbidden: tuple[str, ...] = (),
    current_hash: str | None = None,
) -> str | None:
    """The reason a new password is refused, in French, or None when it is acceptable.

    No composition rule: length, not a known or common value, not the previous one.
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
    if current_hash and check_password_hash(current_hash, password):
        return "Le nouveau mot de passe doit être différent de l'actuel."
    return None
