"""Manager accounts."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from ..extensions import db
from ..models import Gestionnaire
from . import ServiceError
from .passwords import hash_password, password_problem


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError("Adresse électronique invalide.", field="email") from exc


def create_gestionnaire(*, email: str, nom: str, role: str, password: str, must_change: bool = True) -> Gestionnaire:
    email = normalise_email(email)
    if db.session.scalar(select(func.count()).select_from(Gestionnaire).where(Gestionnaire.email == email)):
        raise ServiceError("Un compte existe déjà avec cette adresse.", field="email")
    problem = password_problem(password, forbidden=(email, email.split("@")[0]))
    if problem:
        raise ServiceError(problem, field="password")
    compte = Gestionnaire(email=email, nom=nom.strip()[:120], role=role, password_hash=hash_password(password),
                          must_change_password=must_change)
    db.session.add(compte)
    db.session.flush()
    return compte
