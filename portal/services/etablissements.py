"""The establishment in its tracking service: login, passwords, its registration service,
the European-section answer and the cancellation of its registrations."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select

from .. import auth
from ..extensions import db
from ..models import Etablissement, Inscription, SessionExamen, new_token, utcnow
from . import ServiceError, audit, inscriptions, passwords, postes, throttle, verrou

LOGIN_ERROR = "Code établissement ou mot de passe incorrect."
INSCRIPTION_PASSWORD_DEFAULT_ERROR = (
    "Le service d'inscription ne peut pas être ouvert : son mot de passe est encore le code de "
    "l'établissement. Changez-le d'abord dans « Mot de passe inscription » (menu du service de suivi), "
    "puis ouvrez le service.")


def _normalise_code(code: str) -> str:
    return (code or "").strip().upper()[:8]


def authenticate(code: str, password: str, ip: str) -> Etablissement:
    """The establishment whose code and tracking password match; audits the attempt.

    Raises throttle.TropDeTentatives past the throttle (even for the right password) and ServiceError
    with one generic message for an unknown code or a wrong password.
    """
    code = _normalise_code(code)
    wait = throttle.ETABLISSEMENT_LOGIN.blocked_for(code, ip)
    if wait is not None:
        audit.record("etablissement.connexion", outcome="refus", etablissement_code=None,
                     objet_type="Etablissement", objet_id=code, details={"motif": "trop de tentatives"})
        raise throttle.TropDeTentatives(wait)
    etab = db.session.scalar(select(Etablissement).where(Etablissement.code == code,
                                                         Etablissement.actif.is_(True)))
    if not passwords.verify_password(etab.suivi_password_hash if etab else None, password or ""):
        throttle.ETABLISSEMENT_LOGIN.fail(code, ip)
        audit.record("etablissement.connexion", outcome="echec", objet_type="Etablissement", objet_id=code,
                     details={"motif": "identifiants incorrects"})
        raise ServiceError(LOGIN_ERROR, field="password")
    throttle.ETABLISSEMENT_LOGIN.succeed(code, ip)
    audit.record("etablissement.connexion", etab, actor=auth.actor_for_user(etab))
    return etab


def record_logout(etab: Etablissement) -> None:
    """End every session of the establishment (copied cookies included)."""
    auth.rotate_token(etab)
    audit.record("etablissement.deconnexion", etab)
    db.session.flush()


def _check_new_password(etab: Etablissement, new_password: str, current_hash: str, field: str) -> None:
    problem = passwords.password_problem(new_password, forbidden=(etab.code,),
                                         user_inputs=(etab.nom, etab.commune), current_hash=current_hash)
    if problem:
        raise ServiceError(problem, field=field)


def change_suivi_password(etab: Etablissement, current_password: str, new_password: str) -> None:
    """Change the tracking password (current one required) and end every other session.

    A wrong current password is audited as a failure before the error is raised; nothing
    else is written in that case.
    """
    if not passwords.verify_password(etab.suivi_password_hash, current_password or ""):
        audit.record("etablissement.mot_de_passe_suivi", etab, outcome="echec",
                     details={"motif": "mot de passe actuel incorrect"})
        raise ServiceError("Le mot de passe actuel est incorrect.", field="current_password")
    _check_new_password(etab, new_password, etab.suivi_password_hash, "new_password")
    verrou.assert_writable()
    was_default = etab.suivi_password_default
    etab.suivi_password_hash = passwords.hash_password(new_password)
    etab.suivi_password_default = False
    auth.rotate_token(etab)
    audit.record("etablissement.mot_de_passe_suivi", etab,
                 details={"avant": {"par_defaut": was_default}, "apres": {"par_defaut": False}})
    db.session.flush()


def change_inscription_password(etab: Etablissement, current_suivi_password: str, new_password: str,
                                ip: str) -> None:
    """Change the registration-service password: opened school computers must log in again.

    The head's current tracking password is required, so that a session left open is not
    enough to take over the pupils' computers. It is checked like a login (same throttle:
    refused before any hashing past the limit); a wrong one is audited as a failure before
    the error is raised, and nothing else is written.
    """
    wait = throttle.ETABLISSEMENT_LOGIN.blocked_for(etab.code, ip)
    if wait is not None:
        audit.record("etablissement.mot_de_passe_inscription", etab, outcome="refus",
                     details={"motif": "trop de tentatives"})
        raise throttle.TropDeTentatives(wait)
    if not passwords.verify_password(etab.suivi_password_hash, current_suivi_password or ""):
        throttle.ETABLISSEMENT_LOGIN.fail(etab.code, ip)
        audit.record("etablissement.mot_de_passe_inscription", etab, outcome="echec",
                     details={"motif": "mot de passe actuel du suivi incorrect"})
        raise ServiceError("Le mot de passe actuel du service de suivi est incorrect.",
                           field="current_password")
    _check_new_password(etab, new_password, etab.inscription_password_hash, "new_password")
    verrou.assert_writable()
    was_default = etab.inscription_password_default
    etab.inscription_password_hash = passwords.hash_password(new_password)
    etab.inscription_password_default = False
    etab.inscription_token = new_token()
    postes.close_all(etab)
    audit.record("etablissement.mot_de_passe_inscription", etab,
                 details={"avant": {"par_defaut": was_default}, "apres": {"par_defaut": False}})
    db.session.flush()


def reset_passwords(etab: Etablissement) -> None:
    """Both passwords back to the code (a manager's action): every session of the
    establishment ends, tracking and opened school computers alike, and its registration
    service closes (it cannot be opened again until the head has replaced both passwords)."""
    etab.suivi_password_hash = passwords.hash_password(etab.code)
    etab.suivi_password_default = True
    etab.inscription_password_hash = passwords.hash_password(etab.code)
    etab.inscription_password_default = True
    auth.rotate_token(etab)
    etab.inscription_token = new_token()
    postes.close_all(etab)
    ferme = etab.service_ouvert
    if ferme:
        etab.service_ouvert = False
        etab.service_change_at = utcnow()
    audit.record("etablissement.mots_de_passe_reinitialises", etab,
                 details={"avant": {"service_ouvert": True}, "apres": {"service_ouvert": False}} if ferme else None)
    db.session.flush()


def has_european_candidates(etab: Etablissement, session_examen: SessionExamen | None) -> bool:
    stmt = select(Inscription.id).where(Inscription.etablissement_id == etab.id,
                                        Inscription.statut == "active",
                                        Inscription.section_europeenne.is_(True))
    if session_examen is not None:
        stmt = stmt.where(Inscription.session_id == session_examen.id)
    return bool(db.session.scalar(select(exists(stmt))))


def section_europeenne_locked(etab: Etablissement, session_examen: SessionExamen | None) -> bool:
    """An answer can no longer change once a candidate chose the European section."""
    return etab.section_europeenne is not None and has_european_candidates(etab, session_examen)


def answer_section_europeenne(etab: Etablissement, session_examen: SessionExamen | None, answer: bool) -> bool:
    """Record whether the establishment runs European sections; False when unchanged."""
    if not etab.prepare_bcp:
        raise ServiceError("Seuls les établissements préparant le baccalauréat professionnel sont concernés.")
    if etab.section_europeenne is answer:
        return False
    if etab.section_europeenne is not None and has_european_candidates(etab, session_examen):
        raise ServiceError("La réponse ne peut plus être modifiée : des candidats de l'établissement sont "
                           "inscrits en section européenne.", field="reponse")
    verrou.assert_writable()
    before = etab.section_europeenne
    etab.section_europeenne = answer
    etab.section_europeenne_at = utcnow()
    audit.record("etablissement.section_europeenne", etab,
                 details={"avant": {"section_europeenne": before}, "apres": {"section_europeenne": answer}})
    db.session.flush()
    return True


def set_service_ouvert(etab: Etablissement, ouvert: bool) -> bool:
    """Open or close the establishment's registration service; False when unchanged."""
    if ouvert and etab.prepare_bcp and etab.section_europeenne is None:
        raise ServiceError("Avant d'ouvrir le service d'inscription, indiquez si votre établissement gère "
                           "des sections européennes.")
    if ouvert and etab.inscription_password_default:
        raise ServiceError(INSCRIPTION_PASSWORD_DEFAULT_ERROR)
    verrou.assert_writable()
    if etab.service_ouvert is ouvert:
        return False
    etab.service_ouvert = ouvert
    etab.service_change_at = utcnow()
    audit.record("etablissement.service_ouvert" if ouvert else "etablissement.service_ferme", etab,
                 details={"avant": {"service_ouvert": not ouvert}, "apres": {"service_ouvert": ouvert}})
    db.session.flush()
    return True


def update_cancellations(etab: Etablissement, session_examen: SessionExamen, shown_ids: Iterable[int],
                         cancelled_ids: Iterable[int]) -> int:
    """Apply the cancelled flags of the rows shown on the validation page.

    ``shown_ids``: the registrations the page displayed; those in ``cancelled_ids`` end
    cancelled, the others active. Raises LookupError when an id is not one of this
    establishment's registrations of the session (nothing is changed), ServiceError when a
    reactivation is impossible (the caller rolls the whole transaction back).
    Returns the number of registrations changed.
    """
    shown = set(shown_ids)
    cancelled = set(cancelled_ids)
    if not cancelled <= shown:
        raise LookupError("cancelled id not shown")
    rows = db.session.scalars(
        select(Inscription).where(Inscription.id.in_(shown), Inscription.etablissement_id == etab.id,
                                  Inscription.session_id == session_examen.id)
        .order_by(Inscription.numero)
    ).all()
    if len(rows) != len(shown):
        raise LookupError("unknown registration")
    verrou.assert_writable()
    changed = 0
    for inscription in rows:
        if inscriptions.set_cancelled(inscription, inscription.id in cancelled, par=etab.code):
            changed += 1
    return changed
