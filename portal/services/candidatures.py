"""The rule-checked registration flow shared by the in-school and public services.

A candidature is what a candidate submits: identity and contact values (the columns of
``Candidat``) and a ``Choix`` (specialty, form of passage, European section). Every rule
is checked again here at the final submission, whatever the pages checked before:
choices offered, European-section rule, age, calendar and late window, pupil base,
duplicates (held by the database's unique index).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, inspect, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import dossier, generation
from ..extensions import db
from ..models import (
    AutorisationTardive,
    Eleve,
    Etablissement,
    Examen,
    Inscription,
    InscriptionVersion,
    SessionExamen,
    Specialite,
    StatutPublication,
    etablissement_specialites,
    new_token,
)
from ..request_cache import cached
from . import DatabaseLocked, ServiceError, audit, campagne, inscriptions, passwords, throttle, verrou
from .campagne import EtatService
from .identite import cle_identite, normaliser, probleme_date_naissance

STATUTS_ETABLISSEMENT = ("scolaire", "apprenti")
STATUTS_PUBLIC = ("individuel", "formation_continue", "enseignement_distance")
# Age on the exam date, inclusive bounds.
AGES = {"BTS": (16, 70)}
AGE_PAR_DEFAUT = (14, 70)


@dataclass(frozen=True)
class Contexte:
    """Where a registration is made: the session, the service and, in school, the establishment."""

    session: SessionExamen
    source: str  # "etablissement" or "public", also the name of the calendar service
    etablissement: Etablissement | None = None


@dataclass(frozen=True)
class Choix:
    specialite_id: int | None
    forme: str | None = None
    # None when the question is not asked.
    section_europeenne: bool | None = None


@dataclass(frozen=True)
class ChoixValide:
    specialite: Specialite
    forme: str
    section_europeenne: bool | None  # None when not asked
    etat: EtatService


# --- what is offered -----------------------------------------------------------------


def statuts_possibles(etablissement: Etablissement | None) -> tuple[str, ...]:
    if etablissement is None:
        return STATUTS_PUBLIC
    return STATUTS_ETABLISSEMENT if etablissement.type == "CFA" else ("scolaire",)


_ELEVES = Eleve.__table__
_HAS_BASE = select(exists().where(_ELEVES.c.session_id == bindparam("session_id"),
                                  _ELEVES.c.etablissement_id == bindparam("etablissement_id")))


def has_base_eleves(session_examen: SessionExamen, etablissement: Etablissement | None) -> bool:
    """Whether the establishment's pupil base is loaded for the session (kept by the process
    until the campaign data change: the loads of pupils raise the counter)."""
    if etablissement is None:
        return False
    session_id, etablissement_id = session_examen.id, etablissement.id
    return generation.cached(("base_eleves", session_id, etablissement_id), lambda: bool(
        db.session.connection().execute(
            _HAS_BASE, {"session_id": session_id, "etablissement_id": etablissement_id}).scalar()))


def specialites_offertes(ctx: Contexte, now: datetime | None = None) -> list[Specialite]:
    """Published specialties of exams open in the calendar (and prepared by the establishment),
    with their exam. Every step page asks for them: the rows are kept by the process for the
    exams open at this moment (``generation``), and become instances of this request's
    database session without a query."""
    ouverts = sorted(campagne.examens_ouverts(ctx.session, ctx.source, now))
    if not ouverts:
        return []
    etablissement_id = ctx.etablissement.id if ctx.etablissement else None
    key = ("specialites_offertes", ctx.session.id, ctx.source, etablissement_id, tuple(ouverts))
    return list(cached(("instances", *key), lambda: _instances(
        generation.cached(key, lambda: _specialites_offertes(ctx.session.id, etablissement_id, ouverts)))))


def _instances(rows: list[tuple[dict, dict]]) -> list[Specialite]:
    offertes = []
    for specialite_values, examen_values in rows:
        specialite = generation.attach(Specialite, specialite_values)
        if "examen" in inspect(specialite).unloaded:
            set_committed_value(specialite, "examen", generation.attach(Examen, examen_values))
        offertes.append(specialite)
    return offertes


_SPECIALITES, _EXAMENS, _STATUTS = Specialite.__table__, Examen.__table__, StatutPublication.__table__
_OFFERTES = (
    select(*_SPECIALITES.c, *(c.label(f"examen__{c.name}") for c in _EXAMENS.c))
    .join(_EXAMENS, _EXAMENS.c.id == _SPECIALITES.c.examen_id)
    .join(_STATUTS, and_(_STATUTS.c.specialite_id == _SPECIALITES.c.id,
                         _STATUTS.c.session_id == bindparam("session_id")))
    .where(_STATUTS.c.statut == "publie", _SPECIALITES.c.actif.is_(True),
           _SPECIALITES.c.examen_id.in_(bindparam("examens", expanding=True)))
    .order_by(_EXAMENS.c.ordre, _SPECIALITES.c.cle_tri, _SPECIALITES.c.id)
)
_PREPAREES = _OFFERTES.where(_SPECIALITES.c.id.in_(
    select(etablissement_specialites.c.specialite_id)
    .where(etablissement_specialites.c.etablissement_id == bindparam("etablissement_id"))))


def _specialites_offertes(session_id: int, etablissement_id: int | None,
                          examens: list[int]) -> list[tuple[dict, dict]]:
    """(specialty columns, exam columns) of each specialty offered, in the order shown."""
    params = {"session_id": session_id, "examens": examens, "etablissement_id": etablissement_id}
    rows = db.session.connection().execute(_PREPAREES if etablissement_id is not None else _OFFERTES, params)
    offertes = []
    for row in rows:
        values = row._mapping
        offertes.append(({c.name: values[c.name] for c in _SPECIALITES.c},
                         {c.name: values[f"examen__{c.name}"] for c in _EXAMENS.c}))
    return offertes


_PROPOSES = (select(_SPECIALITES.c.examen_id).distinct()
             .join(_STATUTS, and_(_STATUTS.c.specialite_id == _SPECIALITES.c.id,
                                  _STATUTS.c.session_id == bindparam("session_id")))
             .where(_STATUTS.c.statut == "publie", _SPECIALITES.c.actif.is_(True)))
_PROPOSES_PREPARES = _PROPOSES.where(_SPECIALITES.c.id.in_(
    select(etablissement_specialites.c.specialite_id)
    .where(etablissement_specialites.c.etablissement_id == bindparam("etablissement_id"))))


def calendrier(ctx: Contexte, now: datetime | None = None) -> list[campagne.EtatExamen]:
    """Which exams this service offers (published specialties, prepared by the
    establishment in school), each open until when or closed since when."""
    etablissement_id = ctx.etablissement.id if ctx.etablissement else None
    if ctx.session is None:
        return []

    def load() -> frozenset[int]:
        stmt = _PROPOSES_PREPARES if etablissement_id is not None else _PROPOSES
        return frozenset(db.session.connection().execute(
            stmt, {"session_id": ctx.session.id, "etablissement_id": etablissement_id}).scalars())

    proposes = generation.cached(("examens_proposes", ctx.session.id, etablissement_id), load)
    return campagne.calendrier_examens(ctx.session, ctx.source, proposes, now)


def section_europeenne_demandee(specialite: Specialite, etablissement: Etablissement | None,
                                statut: str | None) -> bool:
    """BCP with a European section possible, an establishment that runs them, and a school
    pupil or an apprentice of a centre entitled to continuous assessment (CCF)."""
    if etablissement is None or etablissement.section_europeenne is not True:
        return False
    if specialite.examen.code != "BCP" or not specialite.section_europeenne_possible:
        return False
    return statut == "scolaire" or (statut == "apprenti" and etablissement.ccf_habilite)


def forme_demandee(specialite: Specialite, etablissement: Etablissement | None, statut: str | None) -> bool:
    """Whether the form-of-passage step has anything to ask."""
    return len(specialite.formes) > 1 or section_europeenne_demandee(specialite, etablissement, statut)


# --- school computers ----------------------------------------------------------------


def etat_poste(etablissement: Etablissement, session_examen: SessionExamen | None,
               now: datetime | None = None, *, verifier_verrou: bool = True) -> EtatService:
    """Whether a school computer may be opened (or stay in use) now, and why not.

    An open computer stays readable while the database is locked (``verifier_verrou=False``):
    only the final submission is refused then."""
    if not etablissement.actif:
        return EtatService(False, raison="Cet établissement n'est plus actif.")
    if etablissement.inscription_password_default:
        return EtatService(False, raison="Le mot de passe du service d'inscription est encore le mot de passe "
                                         "par défaut : le chef d'établissement doit d'abord le changer dans le "
                                         "service de suivi.")
    if not etablissement.service_ouvert:
        return EtatService(False, raison="Le service d'inscription de l'établissement est fermé : le chef "
                                         "d'établissement l'ouvre depuis le service de suivi.")
    if verifier_verrou and verrou.is_held():
        return EtatService(False, raison=DatabaseLocked(verrou.current()).situation(
            " : le poste d'inscription ne peut pas être ouvert."))
    ouverts = campagne.examens_ouverts(session_examen, "etablissement", now)
    if ouverts:
        return EtatService(True, tardif=all(e.tardif for e in ouverts.values()),
                           jusqu_a=max((e.jusqu_a for e in ouverts.values() if e.jusqu_a), default=None))
    globale = campagne.etat_service(session_examen, "etablissement", None, now)
    if not globale.ouvert:
        return globale
    return EtatService(False, raison="L'inscription n'est ouverte pour aucun examen en ce moment.")


# --- checks --------------------------------------------------------------------------


def check_age(date_naissance: date, examen: Examen, session_examen: SessionExamen) -> None:
    minimum, maximum = AGES.get(examen.code, AGE_PAR_DEFAUT)
    ref = session_examen.date_examen
    age = ref.year - date_naissance.year - ((ref.month, ref.day) < (date_naissance.month, date_naissance.day))
    if not minimum <= age <= maximum:
        raise ServiceError(f"Pour le {examen.code}, le candidat doit avoir entre {minimum} et {maximum} ans à la "
                           f"date de l'examen ({ref:%d/%m/%Y}) : vérifiez la date de naissance.",
                           field="date_naissance")


def specialite_offerte(ctx: Contexte, specialite_id: int | None, now: datetime | None = None) -> Specialite:
    """The chosen specialty, refused unless it is offered here now (saying why)."""
    offertes = {s.id: s for s in specialites_offertes(ctx, now)}
    specialite = offertes.get(specialite_id) if isinstance(specialite_id, int) else None
    if specialite is None:
        raise ServiceError(raison_indisponible(ctx, specialite_id, now)
                           or "Cette spécialité n'est pas proposée : choisissez-en une dans la liste.",
                           field="specialite")
    return specialite


def raison_indisponible(ctx: Contexte, specialite_id: int | None, now: datetime | None = None) -> str | None:
    """Why a specialty chosen earlier is no longer offered: its exam closed meanwhile (since
    when, in Paris time) or it left the catalogue. None when it is offered, or unknown."""
    specialite = db.session.get(Specialite, specialite_id) if isinstance(specialite_id, int) else None
    if specialite is None:
        return None
    etat = campagne.etat_service(ctx.session, ctx.source, specialite.examen, now)
    if not etat.ouvert:
        return etat.raison
    if specialite_id in {s.id for s in specialites_offertes(ctx, now)}:
        return None
    return (f"La spécialité {specialite.examen.code} – {specialite.code} – {specialite.libelle} n'est plus "
            "proposée à l'inscription.")


def check_forme(specialite: Specialite, etablissement: Etablissement | None, statut: str | None,
                choix: Choix) -> tuple[str, bool | None]:
    """The form of passage and European answer (None when not asked), refused unless
    offered / asked."""
    formes = specialite.formes
    forme = choix.forme or (formes[0] if len(formes) == 1 else None)
    if forme not in formes:
        raise ServiceError("Choisissez une forme de passage proposée pour cette spécialité.", field="forme")
    if section_europeenne_demandee(specialite, etablissement, statut):
        if choix.section_europeenne is None:
            raise ServiceError("Indiquez si vous suivez une section européenne.", field="section_europeenne")
    elif choix.section_europeenne is not None:
        raise ServiceError("La question de la section européenne ne concerne pas cette inscription.",
                           field="section_europeenne")
    return forme, choix.section_europeenne


def check_tardif(ctx: Contexte, examen: Examen, cle: str) -> None:
    """In the late window only a candidate a manager authorised may register."""
    stmt = select(AutorisationTardive.id).where(
        AutorisationTardive.session_id == ctx.session.id, AutorisationTardive.service == ctx.source,
        AutorisationTardive.examen_id == examen.id, AutorisationTardive.cle_identite == cle,
        AutorisationTardive.revoked_at.is_(None))
    if ctx.etablissement is not None:
        stmt = stmt.where((AutorisationTardive.etablissement_id.is_(None))
                          | (AutorisationTardive.etablissement_id == ctx.etablissement.id))
    if db.session.scalar(stmt.limit(1)) is None:
        raise ServiceError("La période d'inscription est terminée : seuls les candidats autorisés par le "
                           "rectorat peuvent encore s'inscrire. Adressez-vous au rectorat si vous pensez "
                           "devoir être autorisé.", field="specialite")


def _same_names(eleve: Eleve, candidat: dict[str, Any]) -> bool:
    noms = {normaliser(candidat.get("nom_naissance", "")), normaliser(candidat.get("nom_usage", ""))}
    prenoms = normaliser(eleve.prenoms).split()
    return normaliser(eleve.nom) in noms and normaliser(candidat.get("prenom1", "")).split()[:1] == prenoms[:1]


def match_eleve(ctx: Contexte, candidat: dict[str, Any], examen: Examen) -> Eleve | None:
    """The pupil in the establishment's base (None when it has no base); refuses when not
    found or when decision D holds without a pass."""
    if not has_base_eleves(ctx.session, ctx.etablissement):
        return None
    eleve = db.session.scalar(
        select(Eleve).where(Eleve.session_id == ctx.session.id, Eleve.etablissement_id == ctx.etablissement.id,
                            Eleve.ine == (candidat.get("ine") or "").upper(), Eleve.examen_id == examen.id,
                            Eleve.present.is_(True))
        .options(selectinload(Eleve.laissez_passer)))
    if eleve is None or eleve.date_naissance != candidat.get("date_naissance") or not _same_names(eleve, candidat):
        raise ServiceError(f"Vous ne figurez pas dans la base élèves de l'établissement pour le {examen.code} "
                           "(INE, nom, prénom et date de naissance comparés). Vérifiez votre saisie ou "
                           "adressez-vous au secrétariat de votre établissement.", field="ine")
    if eleve.decision == "D" and eleve.laissez_passer_actif is None:
        raise ServiceError(f"La décision d'orientation pour le {examen.code} est défavorable : l'inscription en "
                           "ligne n'est pas possible. Adressez-vous au secrétariat de votre établissement, "
                           "qui peut demander un laissez-passer au rectorat.", field="ine")
    return eleve


def check_candidat(ctx: Contexte, candidat: dict[str, Any]) -> None:
    """Rules on the candidate's values that depend on the context (formats are the forms')."""
    missing = [f for f in ("nom_naissance", "prenom1", "sexe", "date_naissance", "statut") if not candidat.get(f)]
    if missing:
        raise ServiceError("Des informations obligatoires manquent : reprenez l'étape « Identité ».",
                           field=missing[0])
    if candidat["statut"] not in statuts_possibles(ctx.etablissement):
        raise ServiceError("Ce statut n'est pas proposé ici.", field="statut")
    if (probleme := probleme_date_naissance(candidat["date_naissance"])) is not None:
        raise ServiceError(probleme, field="date_naissance")
    if has_base_eleves(ctx.session, ctx.etablissement) and not candidat.get("ine"):
        raise ServiceError("Saisissez votre numéro INE : l'établissement dispose d'une base élèves.", field="ine")


def precheck_specialite(ctx: Contexte, candidat: dict[str, Any], specialite_id: int | None,
                        now: datetime | None = None) -> tuple[Specialite, EtatService, Eleve | None, str]:
    """The rules on the chosen specialty: offered, exam open (late window: authorised), age,
    pupil base. Returns the specialty, the calendar state, the pupil and the identity key."""
    specialite = specialite_offerte(ctx, specialite_id, now)
    etat = campagne.etat_service(ctx.session, ctx.source, specialite.examen, now)
    if not etat.ouvert:
        raise ServiceError(etat.raison, field="specialite")
    check_age(candidat["date_naissance"], specialite.examen, ctx.session)
    cle = cle_identite(candidat["nom_naissance"], candidat["prenom1"], candidat["date_naissance"])
    if etat.tardif:
        check_tardif(ctx, specialite.examen, cle)
    eleve = match_eleve(ctx, candidat, specialite.examen)
    return specialite, etat, eleve, cle


def check_candidature(ctx: Contexte, candidat: dict[str, Any], choix: Choix,
                      now: datetime | None = None) -> tuple[ChoixValide, Eleve | None, str]:
    """Every rule of a submission; returns the resolved choice, the matched pupil and the identity key."""
    check_candidat(ctx, candidat)
    specialite, etat, eleve, cle = precheck_specialite(ctx, candidat, choix.specialite_id, now)
    forme, europe = check_forme(specialite, ctx.etablissement, candidat["statut"], choix)
    return ChoixValide(specialite, forme, europe, etat), eleve, cle


# --- writes --------------------------------------------------------------------------


def _candidat_values(candidat: dict[str, Any]) -> dict[str, Any]:
    values = {k: candidat.get(k) for k in dossier.NOMS}
    values["ine"] = (values["ine"] or "").upper()
    return {k: ("" if v is None else v) for k, v in values.items()}


def create_inscription(ctx: Contexte, candidat: dict[str, Any], choix: Choix, *, secret: str | None = None,
                       auteur: str, now: datetime | None = None) -> inscriptions.Nouvelle:
    """Check every rule and insert the registration ``N-0``, audited (never commits).

    The rules are read and the secret hashed before the database's write lock is taken
    (``assert_writable``); the inserts then take a handful of statements, so that
    concurrent submissions queue for as short a time as possible."""
    valide, eleve, cle = check_candidature(ctx, candidat, choix, now)
    secret_hash = None
    if ctx.source == "public":
        problem = passwords.password_problem(secret or "", estimate=False)
        if problem:
            raise ServiceError(problem, field="secret")
        secret_hash = passwords.hash_password(secret)
    specialite = valide.specialite
    codes = {"etablissement": ctx.etablissement.code if ctx.etablissement else None,
             "examen": specialite.examen.code, "specialite": specialite.code}
    values = dict(etablissement_id=ctx.etablissement.id if ctx.etablissement else None,
                  examen_id=specialite.examen_id, specialite_id=specialite.id, forme=valide.forme,
                  section_europeenne=valide.section_europeenne, source=ctx.source, cle_identite=cle,
                  eleve_id=eleve.id if eleve else None,
                  condition=(eleve.note if eleve and eleve.decision == "S" else ""),
                  tardive=valide.etat.tardif, secret_hash=secret_hash, statut="active")

    def details(nouvelle: inscriptions.Nouvelle) -> dict[str, Any]:
        return {"apres": {"numero_version": nouvelle.numero_version, "examen": codes["examen"],
                          "specialite": codes["specialite"], "forme": values["forme"],
                          "section_europeenne": values["section_europeenne"], "statut": "active",
                          "tardive": values["tardive"]}}

    verrou.assert_writable()
    return inscriptions.insert_row(session_id=ctx.session.id, candidat=_candidat_values(candidat), auteur=auteur,
                                   codes=codes, audit_details=details, **values)


def modify_inscription(inscription: Inscription, candidat: dict[str, Any], choix: Choix, *, auteur: str,
                       now: datetime | None = None) -> bool:
    """A public candidate's modification: a new version ``N-V+1`` while the service is open.

    Returns False when nothing changed (no new version)."""
    if inscription.annulee:
        raise ServiceError("Cette inscription est annulée : elle ne peut plus être modifiée.")
    ctx = Contexte(inscription.session, inscription.source, inscription.etablissement)
    etat = campagne.etat_service(ctx.session, ctx.source, inscription.examen, now)
    if not etat.ouvert:
        raise ServiceError(etat.raison or "Le service d'inscription est fermé : modification impossible.")
    valide, eleve, cle = check_candidature(ctx, candidat, choix, now)
    values = {"examen_id": valide.specialite.examen_id, "specialite_id": valide.specialite.id,
              "forme": valide.forme, "section_europeenne": valide.section_europeenne, "cle_identite": cle}
    candidat_values = _candidat_values(candidat)
    before = inscriptions.snapshot(inscription)
    unchanged = all(getattr(inscription.candidat, k) == v for k, v in candidat_values.items()) and all(
        getattr(inscription, k) == v for k, v in values.items())
    if unchanged:
        return False
    verrou.assert_writable()
    inscriptions.apply_modification(inscription, candidat_values=candidat_values, values=values, auteur=auteur)
    after = inscriptions.snapshot(inscription)
    audit.record("inscription.modifiee", inscription, details=audit.diff(_flatten(before), _flatten(after)))
    return True


def _flatten(snap: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in snap.items() if k != "candidat"}
    flat.update(snap["candidat"])
    return flat


# --- public candidates coming back ---------------------------------------------------


LOGIN_ERROR = ("Ces informations ne permettent pas de retrouver une inscription : vérifiez le numéro, la date "
               "de naissance et le code secret.")


def authenticate(session_examen: SessionExamen | None, numero: int | None, date_naissance: date | None,
                 secret: str, ip: str) -> Inscription:
    """The public registration a candidate comes back to.

    Raises throttle.TropDeTentatives past the throttle (even with the right answers) and
    ServiceError with one message whichever part was wrong."""
    account = str(numero)
    wait = throttle.CANDIDAT_LOGIN.blocked_for(account, ip)
    if wait is not None:
        raise throttle.TropDeTentatives(wait)
    inscription = find_for_login(session_examen, numero, date_naissance, secret)
    if inscription is None:
        throttle.CANDIDAT_LOGIN.fail(account, ip)
        raise ServiceError(LOGIN_ERROR)
    throttle.CANDIDAT_LOGIN.succeed(account, ip)
    return inscription


def find_for_login(session_examen: SessionExamen | None, numero: int | None, date_naissance: date | None,
                   secret: str) -> Inscription | None:
    """The public registration matching number, birth date and secret; None otherwise
    (hashing anyway so that timing does not tell which part was wrong)."""
    inscription = None
    if session_examen is not None and numero is not None:
        inscription = db.session.scalar(
            select(Inscription).options(joinedload(Inscription.candidat))
            .where(Inscription.session_id == session_examen.id, Inscription.numero == numero,
                   Inscription.source == "public"))
    ok = passwords.verify_password(inscription.secret_hash if inscription else None, secret)
    if not ok or inscription is None or inscription.candidat.date_naissance != date_naissance:
        return None
    return inscription


def end_candidate_sessions(inscription: Inscription) -> None:
    """Logout: every session cookie carrying the old token dies."""
    inscription.session_token = new_token()


# --- verification of a printed confirmation ------------------------------------------

_CODE_RE = re.compile(r"[A-Z0-9]{12}")


@dataclass(frozen=True)
class Verification:
    etat: str  # "valide", "remplacee" or "annulee"
    numero_version: str
    derniere_version: str
    initiales: str
    examen: str
    specialite: str


def verify_code(raw: str) -> Verification | None:
    code = re.sub(r"[\s\-]", "", raw or "").upper()
    if not _CODE_RE.fullmatch(code):
        return None
    version = db.session.scalar(
        select(InscriptionVersion).where(InscriptionVersion.code_verification == code)
        .options(joinedload(InscriptionVersion.inscription).joinedload(Inscription.specialite)))
    if version is None:
        return None
    inscription = version.inscription
    printed = version.donnees
    person = printed.get("candidat", {})
    initiales = ". ".join(x[:1].upper() for x in (person.get("prenom1", ""), person.get("nom_naissance", "")) if x)
    if inscription.annulee:
        etat = "annulee"
    elif version.version < inscription.version:
        etat = "remplacee"
    else:
        etat = "valide"
    specialite = db.session.scalar(select(Specialite).join(Examen).where(
        Examen.code == printed.get("examen"), Specialite.code == printed.get("specialite")))
    return Verification(etat=etat, numero_version=f"{inscription.numero}-{version.version}",
                        derniere_version=inscription.numero_version, initiales=f"{initiales}." if initiales else "",
                        examen=printed.get("examen", ""),
                        specialite=f"{specialite.code} – {specialite.libelle}" if specialite else printed.get(
                            "specialite", ""))
