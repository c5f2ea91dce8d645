"""Exceptions a manager grants: passes for pupils with decision D, late authorisations."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import AutorisationTardive, Eleve, Etablissement, Examen, LaissezPasser, SessionExamen, utcnow
from . import ServiceError, audit
from .identite import cle_identite

# --- laissez-passer ------------------------------------------------------------------


def eleves_decision_d_query(session_examen: SessionExamen, *, etablissement: Etablissement | None = None) -> Select:
    stmt = (select(Eleve).join(Etablissement, Etablissement.id == Eleve.etablissement_id)
            .where(Eleve.session_id == session_examen.id, Eleve.decision == "D", Eleve.present.is_(True))
            .options(joinedload(Eleve.etablissement), joinedload(Eleve.examen), joinedload(Eleve.specialite),
                     selectinload(Eleve.laissez_passer))
            .order_by(Etablissement.code, Eleve.cle_tri, Eleve.id))
    if etablissement is not None:
        stmt = stmt.where(Eleve.etablissement_id == etablissement.id)
    return stmt


def grant_laissez_passer(eleve: Eleve, *, motif: str, par: str) -> LaissezPasser:
    if eleve.decision != "D":
        raise ServiceError("Un laissez-passer ne concerne qu'un élève ayant reçu une décision défavorable (D).")
    if eleve.laissez_passer_actif is not None:
        raise ServiceError("Cet élève a déjà un laissez-passer en cours.")
    passe = LaissezPasser(eleve=eleve, motif=motif.strip()[:255], granted_by=par)
    db.session.add(passe)
    db.session.flush()
    audit.record("laissez_passer.accorde", passe, etablissement_code=eleve.etablissement.code,
                 details={"eleve": eleve.id, "ine": eleve.ine, "motif": passe.motif})
    return passe


def revoke_laissez_passer(eleve: Eleve, *, par: str) -> LaissezPasser:
    passe = eleve.laissez_passer_actif
    if passe is None:
        raise ServiceError("Cet élève n'a pas de laissez-passer en cours.")
    passe.revoked_at = utcnow()
    passe.revoked_by = par
    audit.record("laissez_passer.revoque", passe, etablissement_code=eleve.etablissement.code,
                 details={"eleve": eleve.id, "ine": eleve.ine})
    db.session.flush()
    return passe


# --- late authorisations -------------------------------------------------------------


def list_autorisations(session_examen: SessionExamen) -> list[AutorisationTardive]:
    stmt = (select(AutorisationTardive).where(AutorisationTardive.session_id == session_examen.id)
            .options(joinedload(AutorisationTardive.examen))
            .order_by(AutorisationTardive.revoked_at.is_not(None), AutorisationTardive.cle_tri,
                      AutorisationTardive.id))
    return list(db.session.scalars(stmt))


def grant_autorisation(session_examen: SessionExamen, *, service: str, examen: Examen, nom: str, prenom: str,
                       date_naissance: date, etablissement_code: str = "", motif: str = "",
                       par: str) -> AutorisationTardive:
    etab = None
    code = (etablissement_code or "").strip().upper()
    if code:
        etab = db.session.scalar(select(Etablissement).where(Etablissement.code == code))
        if etab is None:
            raise ServiceError("Aucun établissement ne porte ce code.", field="etablissement")
    if service == "public" and etab is not None:
        raise ServiceError("Une autorisation du service grand public ne concerne pas un établissement.",
                           field="etablissement")
    cle = cle_identite(nom, prenom, date_naissance)
    duplicate = db.session.scalar(select(AutorisationTardive.id).where(
        AutorisationTardive.session_id == session_examen.id, AutorisationTardive.cle_identite == cle,
        AutorisationTardive.examen_id == examen.id, AutorisationTardive.service == service,
        AutorisationTardive.revoked_at.is_(None)))
    if duplicate is not None:
        raise ServiceError("Ce candidat a déjà une autorisation en cours pour cet examen.", field="nom")
    autorisation = AutorisationTardive(
        session_id=session_examen.id, service=service, examen_id=examen.id,
        etablissement_id=etab.id if etab else None, nom=nom.strip()[:60], prenom=prenom.strip()[:40],
        date_naissance=date_naissance, cle_identite=cle, motif=(motif or "").strip()[:255], granted_by=par)
    db.session.add(autorisation)
    db.session.flush()
    audit.record("autorisation_tardive.accordee", autorisation, etablissement_code=etab.code if etab else None,
                 details={"service": service, "examen": examen.code, "cle_identite": cle,
                          "motif": autorisation.motif})
    return autorisation


def revoke_autorisation(autorisation: AutorisationTardive) -> None:
    if autorisation.revoked_at is not None:
        raise ServiceError("Cette autorisation est déjà révoquée.")
    autorisation.revoked_at = utcnow()
    audit.record("autorisation_tardive.revoquee", autorisation,
                 details={"cle_identite": autorisation.cle_identite})
    db.session.flush()
