"""Manager accounts."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from .. import auth
from ..extensions import db
from ..models import ROLES, Gestionnaire, utcnow
from . import ServiceError, audit, throttle
from .passwords import hash_password, password_problem, verify_password


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError("Adresse électronique invalide.", field="email") from exc


def create_gestionnaire(*, email: str, nom: str, role: str, password: str, must_change: bool = True) -> Gestionnaire:
    email = normalise_email(email)
    if db.session.scalar(select(func.count()).select_from(Gestionnaire).where(Gestionnaire.email == email)):
        raise ServiceError("Un compte existe déjà avec cette adresse.", field="email")
    problem = password_problem(password, forbidden=(email, email.split("@")[0]), user_inputs=(nom,))
    if problem:
        raise ServiceError(problem, field="password")
    compte = Gestionnaire(email=email, nom=nom.strip()[:120], role=role, password_hash=hash_password(password),
                          must_change_password=must_change)
    db.session.add(compte)
    db.session.flush()
    return compte


# --- authentication ------------------------------------------------------------------

BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."


def find_by_email(email: str) -> Gestionnaire | None:
    cleaned = (email or "").strip().lower()
    if not cleaned:
        return None
    return db.session.scalar(select(Gestionnaire).where(func.lower(Gestionnaire.email) == cleaned))


def authenticate(email: str, password: str, *, ip: str) -> Gestionnaire:
    """The active account with this e-mail and password, or a refusal.

    The throttle is checked before any hashing; an unknown or deactivated account and a
    wrong password get the same message and take the same time (a dummy hash runs).
    """
    account_key = (email or "").strip().lower()
    wait = throttle.GESTIONNAIRE_LOGIN.blocked_for(account_key, ip)
    if wait is not None:
        audit.record("gestionnaire.connexion", outcome="refus", objet_type="Gestionnaire",
                     details={"email": account_key, "motif": "trop de tentatives"})
        raise throttle.TropDeTentatives(wait)
    compte = find_by_email(account_key)
    usable = compte if compte is not None and compte.actif else None
    if not verify_password(usable.password_hash if usable else None, password or ""):
        throttle.GESTIONNAIRE_LOGIN.fail(account_key, ip)
        audit.record("gestionnaire.connexion", outcome="echec", objet_type="Gestionnaire",
                     objet_id=usable.id if usable else None, details={"email": account_key})
        raise ServiceError(BAD_CREDENTIALS, field="password")
    throttle.GESTIONNAIRE_LOGIN.succeed(account_key, ip)
    usable.last_login_at = utcnow()
    audit.record("gestionnaire.connexion", usable, actor=_actor(usable))
    return usable


def confirm_password(compte: Gestionnaire, password: str, *, ip: str) -> None:
    """Re-authentication before a sensitive action: same throttle as the login."""
    wait = throttle.GESTIONNAIRE_LOGIN.blocked_for(compte.email, ip)
    if wait is not None:
        audit.record("gestionnaire.reauthentification", compte, outcome="refus")
        raise throttle.TropDeTentatives(wait)
    if not verify_password(compte.password_hash, password or ""):
        throttle.GESTIONNAIRE_LOGIN.fail(compte.email, ip)
        audit.record("gestionnaire.reauthentification", compte, outcome="echec")
        raise ServiceError("Mot de passe incorrect.", field="password")
    throttle.GESTIONNAIRE_LOGIN.succeed(compte.email, ip)
    audit.record("gestionnaire.reauthentification", compte)


def _actor(compte: Gestionnaire) -> dict:
    return {"type": "gestionnaire", "id": compte.id, "label": compte.email, "role": compte.role}


def _check_new_password(compte: Gestionnaire, password: str, *, field: str, current_hash: str | None) -> None:
    problem = password_problem(password, forbidden=(compte.email, compte.email.split("@")[0]),
                               user_inputs=(compte.nom,), current_hash=current_hash)
    if problem:
        raise ServiceError(problem, field=field)


# --- own password --------------------------------------------------------------------


def change_password(compte: Gestionnaire, *, current: str, new: str) -> None:
    """Change one's own password; every other session of the account ends."""
    if not verify_password(compte.password_hash, current or ""):
        audit.record("gestionnaire.mot_de_passe_change", compte, outcome="echec")
        raise ServiceError("Le mot de passe actuel est incorrect.", field="current_password")
    _check_new_password(compte, new, field="new_password", current_hash=compte.password_hash)
    was_initial = compte.must_change_password
    compte.password_hash = hash_password(new)
    compte.must_change_password = False
    auth.rotate_token(compte)
    audit.record("gestionnaire.mot_de_passe_change", compte, details={"mot_de_passe_initial": was_initial})
    db.session.flush()


def logout(compte: Gestionnaire) -> None:
    auth.rotate_token(compte)
    audit.record("gestionnaire.deconnexion", compte)
    db.session.flush()


# --- administration of accounts ------------------------------------------------------


def list_gestionnaires() -> list[Gestionnaire]:
    return list(db.session.scalars(select(Gestionnaire).order_by(Gestionnaire.cle_tri, Gestionnaire.email)))


def create_account(*, email: str, nom: str, role: str, password: str) -> Gestionnaire:
    if role not in ROLES:
        raise ServiceError("Rôle inconnu.", field="role")
    if not (nom or "").strip():
        raise ServiceError("Indiquez le nom.", field="nom")
    compte = create_gestionnaire(email=email, nom=nom, role=role, password=password, must_change=True)
    audit.record("gestionnaire.cree", compte, details={"email": compte.email, "role": role})
    return compte


def set_active(compte: Gestionnaire, actif: bool, *, par: Gestionnaire) -> None:
    """Deactivate (its sessions die at once) or reactivate an account."""
    if compte.id == par.id and not actif:
        raise ServiceError("Vous ne pouvez pas désactiver votre propre compte.")
    if compte.actif == actif:
        return
    compte.actif = actif
    auth.rotate_token(compte)
    audit.record("gestionnaire.reactive" if actif else "gestionnaire.desactive", compte,
                 details={"avant": {"actif": not actif}, "apres": {"actif": actif}})
    db.session.flush()


def reset_password(compte: Gestionnaire, *, password: str, par: Gestionnaire) -> None:
    """An admin sets a new initial password; the holder must change it at next login."""
    if compte.id == par.id:
        raise ServiceError("Pour votre propre compte, utilisez « Changer mon mot de passe ».", field="password")
    _check_new_password(compte, password, field="password", current_hash=None)
    compte.password_hash = hash_password(password)
    compte.must_change_password = True
    auth.rotate_token(compte)
    audit.record("gestionnaire.mot_de_passe_reinitialise", compte)
    db.session.flush()
