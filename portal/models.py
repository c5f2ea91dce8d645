"""The whole domain model.

Conventions: every timestamp is stored as naive UTC (``utcnow()``) and converted to
Europe/Paris for display; enumerations are short strings guarded by CHECK constraints;
invariants the database can hold are constraints, never check-then-insert code.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship, validates

from .collation import cle_tri as _cle_tri
from .extensions import db

# Domain enumerations, each value with its French label (pages, PDF, forms, CSV reports): the
# one place where a value is added. The tuples below (database CHECK constraints, API enums)
# list the same values in the same order.
LIBELLES: dict[str, dict[str, str]] = {
    "examen": {
        "BTS": "Brevet de technicien supérieur",
        "BCP": "Baccalauréat professionnel",
        "BP": "Brevet professionnel",
        "CAP": "Certificat d'aptitude professionnelle",
        "BEP": "Brevet d'études professionnelles",
        "MC4": "Mention complémentaire de niveau 4",
        "MC5": "Mention complémentaire de niveau 5",
    },
    "forme": {"globale": "Globale", "progressive": "Progressive"},
    "statut_candidat": {
        "scolaire": "Élève scolarisé",
        "apprenti": "Apprenti",
        "individuel": "Candidat individuel",
        "formation_continue": "Formation continue",
        "enseignement_distance": "Enseignement à distance",
    },
    "statut_inscription": {"active": "Active", "annulee": "Annulée"},
    "decision": {"F": "Favorable", "S": "Favorable sous condition", "D": "Défavorable"},
    "sexe": {"F": "Féminin", "M": "Masculin"},
    "type_etablissement": {
        "LP": "Lycée professionnel",
        "LPO": "Lycée polyvalent",
        "LGT": "Lycée général et technologique",
        "CFA": "Centre de formation d'apprentis",
        "GRETA": "GRETA (formation continue)",
    },
    "etat_echange": {"en_cours": "En cours", "succes": "Réussi", "echec": "Échec", "annule": "Annulé"},
    "type_echange": {
        "etablissements": "Chargement des établissements",
        "specialites": "Chargement du catalogue des spécialités",
        "eleves": "Chargement d'une base élèves",
        "export_csv": "Déchargement CSV des inscriptions",
        "export_api": "Déchargement par l'API",
    },
    "statut_publication": {
        "non_integrable": "Non intégrable",
        "a_publier_habilitation": "À publier (sous condition habilitation)",
        "a_publier_acces_direct": "À publier (vérifier accès direct)",
        "a_publier_validation": "À publier (soumis à validation rectorat)",
        "a_publier": "À publier",
        "pret": "Prêt pour publication",
        "publie": "Publié",
        "non_publie": "Non publié",
    },
    "service": {"etablissement": "Inscription en établissement", "public": "Inscription grand public"},
    "role": {"admin": "Administrateur", "gestionnaire": "Gestionnaire"},
}


def libelle(value, kind: str) -> str:
    """The French label of a value of the enumeration ``kind`` (the value itself if unknown)."""
    if value is None:
        return ""
    return LIBELLES.get(kind, {}).get(value, str(value))


EXAMENS = tuple(LIBELLES["examen"])
DECISIONS = tuple(LIBELLES["decision"])
FORMES = tuple(LIBELLES["forme"])
SEXES = tuple(LIBELLES["sexe"])
TYPES_ETABLISSEMENT = tuple(LIBELLES["type_etablissement"])
# Status of a candidate: in-school services use the first two, the public service the rest.
STATUTS_CANDIDAT = tuple(LIBELLES["statut_candidat"])
STATUTS_INSCRIPTION = tuple(LIBELLES["statut_inscription"])
SERVICES = tuple(LIBELLES["service"])
SOURCES = SERVICES  # a registration's source is the service it was made through
ROLES = tuple(LIBELLES["role"])
TYPES_ECHANGE = tuple(LIBELLES["type_echange"])
ETATS_ECHANGE = tuple(LIBELLES["etat_echange"])
STATUTS_PUBLICATION = tuple(LIBELLES["statut_publication"])


def utcnow() -> datetime:
    """Naive UTC timestamp, the storage convention of the whole model."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_token() -> str:
    return secrets.token_urlsafe(32)


# Which columns feed which French sort key (``portal/collation.py``), per table:
# lists order by these keys, never by the raw names.
CLES_TRI: dict[str, dict[str, tuple[str, ...]]] = {
    "candidats": {"cle_tri": ("nom_naissance", "prenom1")},
    "eleves": {"cle_tri": ("nom", "prenoms")},
    "specialites": {"cle_tri": ("libelle",)},
    "etablissements": {"cle_tri": ("nom",), "cle_tri_commune": ("commune", "nom")},
    "gestionnaires": {"cle_tri": ("nom",)},
    "autorisations_tardives": {"cle_tri": ("nom", "prenom")},
}


def cles_tri(table: str, values: dict[str, Any]) -> dict[str, bytes]:
    """The sort keys of a row of ``table`` holding ``values`` (Core updates pass them)."""
    return {cle: _cle_tri(*(values.get(champ) for champ in champs)) for cle, champs in CLES_TRI[table].items()}


def _cle_column(table: str, cle: str = "cle_tri"):
    """A sort-key column. Its insert default is computed from the statement's own values,
    so that every insert (ORM, Core, executemany) gets its key without further code;
    ORM updates go through ``_refresh_cles_tri``, Core updates pass ``cles_tri(...)``."""
    champs = CLES_TRI[table][cle]

    def default(context) -> bytes:
        values = context.get_current_parameters()
        return _cle_tri(*(values.get(champ) for champ in champs))

    return mapped_column(LargeBinary, default=default)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class SessionExamen(db.Model):
    """An exam session (campaign) for one year."""

    __tablename__ = "sessions_examen"
    __table_args__ = (
        Index("uq_sessions_examen_courante", "courante", unique=True,
              sqlite_where=text("courante"), postgresql_where=text("courante")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annee: Mapped[int] = mapped_column(Integer, unique=True)
    libelle: Mapped[str] = mapped_column(String(120))
    academie: Mapped[str] = mapped_column(String(120))
    # Reference date for "minor on the exam date" (legal representative signature box).
    date_examen: Mapped[date] = mapped_column(Date)
    courante: Mapped[bool] = mapped_column(Boolean, default=False)
    texte_confirmation: Mapped[str] = mapped_column(Text, default="")
    texte_accueil: Mapped[str] = mapped_column(Text, default="")
    # Counters updated under a row lock in the writing transaction: gapless and in commit order.
    dernier_numero: Mapped[int] = mapped_column(Integer, default=0)
    dernier_changement: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<SessionExamen {self.annee}>"


class Examen(db.Model):
    __tablename__ = "examens"
    __table_args__ = (CheckConstraint(_in("code", EXAMENS), name="code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    libelle: Mapped[str] = mapped_column(String(120))
    ordre: Mapped[int] = mapped_column(Integer, default=0)

    specialites: Mapped[list["Specialite"]] = relationship(back_populates="examen")

    def __repr__(self) -> str:
        return f"<Examen {self.code}>"


etablissement_specialites = Table(
    "etablissement_specialites",
    db.Model.metadata,
    Column("etablissement_id", ForeignKey("etablissements.id", ondelete="CASCADE"), primary_key=True),
    Column("specialite_id", ForeignKey("specialites.id", ondelete="CASCADE"), primary_key=True),
)


class Specialite(db.Model):
    __tablename__ = "specialites"
    __table_args__ = (
        UniqueConstraint("examen_id", "code"),
        CheckConstraint("forme_globale OR forme_progressive", name="une_forme"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    examen_id: Mapped[int] = mapped_column(ForeignKey("examens.id"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    libelle: Mapped[str] = mapped_column(String(200))
    cle_tri: Mapped[bytes] = _cle_column("specialites")
    forme_globale: Mapped[bool] = mapped_column(Boolean, default=True)
    forme_progressive: Mapped[bool] = mapped_column(Boolean, default=False)
    section_europeenne_possible: Mapped[bool] = mapped_column(Boolean, default=False)
    # Catalogue data the nightly publication rules read.
    integrable: Mapped[bool] = mapped_column(Boolean, default=True)
    habilitation_requise: Mapped[bool] = mapped_column(Boolean, default=False)
    acces_direct_a_verifier: Mapped[bool] = mapped_column(Boolean, default=False)
    validation_rectorat: Mapped[bool] = mapped_column(Boolean, default=False)
    actif: Mapped[bool] = mapped_column(Boolean, default=True)

    examen: Mapped[Examen] = relationship(back_populates="specialites")

    @property
    def formes(self) -> list[str]:
        return [f for f, ok in (("globale", self.forme_globale), ("progressive", self.forme_progressive)) if ok]

    def __repr__(self) -> str:
        return f"<Specialite {self.code}>"


class Etablissement(UserMixin, db.Model):
    """An establishment; logged in, it is the user of the tracking service."""

    __tablename__ = "etablissements"
    __table_args__ = (CheckConstraint(_in("type", TYPES_ETABLISSEMENT), name="type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    nom: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(5))
    commune: Mapped[str] = mapped_column(String(80), default="")
    cle_tri: Mapped[bytes] = _cle_column("etablissements")
    cle_tri_commune: Mapped[bytes] = _cle_column("etablissements", "cle_tri_commune")
    ccf_habilite: Mapped[bool] = mapped_column(Boolean, default=False)
    actif: Mapped[bool] = mapped_column(Boolean, default=True)

    suivi_password_hash: Mapped[str] = mapped_column(String(255))
    suivi_password_default: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotated on logout and password change: every copied session cookie dies with it.
    suivi_token: Mapped[str] = mapped_column(String(64), default=new_token)
    inscription_password_hash: Mapped[str] = mapped_column(String(255))
    inscription_password_default: Mapped[bool] = mapped_column(Boolean, default=True)
    inscription_token: Mapped[str] = mapped_column(String(64), default=new_token)

    service_ouvert: Mapped[bool] = mapped_column(Boolean, default=False)
    service_change_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    # None: not answered yet (only asked of establishments preparing BCP).
    section_europeenne: Mapped[Optional[bool]] = mapped_column(Boolean)
    section_europeenne_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    specialites: Mapped[list[Specialite]] = relationship(
        secondary=etablissement_specialites, order_by="Specialite.code"
    )

    def get_id(self) -> str:
        return f"e:{self.suivi_token}"

    @property
    def is_active(self) -> bool:
        return self.actif

    @property
    def prepare_bcp(self) -> bool:
        return any(s.examen.code == "BCP" for s in self.specialites)

    def __repr__(self) -> str:
        return f"<Etablissement {self.code}>"


class Gestionnaire(UserMixin, db.Model):
    """A named rectorate account."""

    __tablename__ = "gestionnaires"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    nom: Mapped[str] = mapped_column(String(120))
    cle_tri: Mapped[bytes] = _cle_column("gestionnaires")
    role: Mapped[str] = mapped_column(String(12), default="gestionnaire")
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    actif: Mapped[bool] = mapped_column(Boolean, default=True)
    session_token: Mapped[str] = mapped_column(String(64), default=new_token)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    def get_id(self) -> str:
        return f"g:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.actif

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ApiToken(db.Model):
    """Token of the downstream exam-organisation system; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    nom: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefixe: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("gestionnaires.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(DateTime)


class OuvertureService(db.Model):
    """Calendar of a registration service, globally (examen_id NULL) or for one exam."""

    __tablename__ = "ouvertures_service"
    __table_args__ = (
        CheckConstraint(_in("service", SERVICES), name="service"),
        UniqueConstraint("session_id", "service", "examen_id"),
        Index("uq_ouvertures_service_globale", "session_id", "service", unique=True,
              sqlite_where=text("examen_id IS NULL"), postgresql_where=text("examen_id IS NULL")),
        CheckConstraint("fin IS NULL OR debut IS NULL OR fin > debut", name="dates"),
        CheckConstraint("fin_tardive IS NULL OR (fin IS NOT NULL AND fin_tardive > fin)", name="tardive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_examen.id"), index=True)
    service: Mapped[str] = mapped_column(String(14))
    examen_id: Mapped[Optional[int]] = mapped_column(ForeignKey("examens.id"))
    ouvert: Mapped[bool] = mapped_column(Boolean, default=False)
    debut: Mapped[Optional[datetime]] = mapped_column(DateTime)
    fin: Mapped[Optional[datetime]] = mapped_column(DateTime)
    # After ``fin`` and until this, only candidates a manager authorised may register.
    fin_tardive: Mapped[Optional[datetime]] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    examen: Mapped[Optional[Examen]] = relationship()


class Echange(db.Model):
    """One load (chargement) or unload (déchargement), with its outcome and report."""

    __tablename__ = "echanges"
    __table_args__ = (
        CheckConstraint(_in("type", TYPES_ECHANGE), name="type"),
        CheckConstraint(_in("etat", ETATS_ECHANGE), name="etat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sessions_examen.id"))
    type: Mapped[str] = mapped_column(String(14))
    etat: Mapped[str] = mapped_column(String(10), default="en_cours")
    fichier_nom: Mapped[Optional[str]] = mapped_column(String(255))
    fichier_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    fichier_taille: Mapped[Optional[int]] = mapped_column(Integer)
    gestionnaire_id: Mapped[Optional[int]] = mapped_column(ForeignKey("gestionnaires.id"))
    acteur: Mapped[str] = mapped_column(String(254))
    etablissement_id: Mapped[Optional[int]] = mapped_column(ForeignKey("etablissements.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    nb_lignes: Mapped[int] = mapped_column(Integer, default=0)
    nb_crees: Mapped[int] = mapped_column(Integer, default=0)
    nb_modifies: Mapped[int] = mapped_column(Integer, default=0)
    nb_supprimes: Mapped[int] = mapped_column(Integer, default=0)
    nb_erreurs: Mapped[int] = mapped_column(Integer, default=0)
    # Line-level errors: [{"ligne": 12, "colonne": "ine", "message": "..."}].
    rapport: Mapped[Optional[list[dict[str, Any]]]] = deferred(mapped_column(JSON))
    message: Mapped[str] = mapped_column(Text, default="")
    # Unloads: the change-sequence range they carried.
    curseur_debut: Mapped[Optional[int]] = mapped_column(Integer)
    curseur_fin: Mapped[Optional[int]] = mapped_column(Integer)
    annule_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    annule_par: Mapped[Optional[str]] = mapped_column(String(254))

    gestionnaire: Mapped[Optional[Gestionnaire]] = relationship()
    etablissement: Mapped[Optional[Etablissement]] = relationship()


class EchangeTrace(db.Model):
    """What a load did to one row, so that cancelling the load can undo it."""

    __tablename__ = "echange_traces"
    __table_args__ = (CheckConstraint(_in("action", ("cree", "modifie", "purge")), name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    echange_id: Mapped[int] = mapped_column(ForeignKey("echanges.id", ondelete="CASCADE"), index=True)
    objet: Mapped[str] = mapped_column(String(40))
    objet_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    avant: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)


class Eleve(db.Model):
    """A pre-known candidate of an establishment's pupil base, with an eligibility decision."""

    __tablename__ = "eleves"
    __table_args__ = (
        UniqueConstraint("session_id", "etablissement_id", "ine", "examen_id"),
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_examen.id"))
    etablissement_id: Mapped[int] = mapped_column(ForeignKey("etablissements.id"), index=True)
    ine: Mapped[str] = mapped_column(String(11), index=True)
    nom: Mapped[str] = mapped_column(String(60))
    prenoms: Mapped[str] = mapped_column(String(120))
    cle_tri: Mapped[bytes] = _cle_column("eleves")
    date_naissance: Mapped[date] = mapped_column(Date)
    examen_id: Mapped[int] = mapped_column(ForeignKey("examens.id"))
    specialite_id: Mapped[Optional[int]] = mapped_column(ForeignKey("specialites.id"))
    decision: Mapped[str] = mapped_column(String(1))
    note: Mapped[str] = mapped_column(String(255), default="")
    # False once a newer load of the base no longer lists the pupil (purge).
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    echange_id: Mapped[Optional[int]] = mapped_column(ForeignKey("echanges.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    etablissement: Mapped[Etablissement] = relationship()
    examen: Mapped[Examen] = relationship()
    specialite: Mapped[Optional[Specialite]] = relationship()
    laissez_passer: Mapped[list["LaissezPasser"]] = relationship(back_populates="eleve")

    @staticmethod
    def normalise_nom(value: str) -> str:
        """A pupil's name as stored, whoever writes it (a load, the demo data): upper case,
        single spaces. A load compares stored and new values as they are."""
        return " ".join((value or "").split()).upper()

    @staticmethod
    def normalise_prenoms(value: str) -> str:
        return " ".join((value or "").split())

    @validates("nom")
    def _validate_nom(self, _key: str, value: str) -> str:
        return self.normalise_nom(value)

    @validates("prenoms")
    def _validate_prenoms(self, _key: str, value: str) -> str:
        return self.normalise_prenoms(value)

    @property
    def laissez_passer_actif(self) -> Optional["LaissezPasser"]:
        return next((lp for lp in self.laissez_passer if lp.revoked_at is None), None)


class LaissezPasser(db.Model):
    """A manager's pass letting a pupil with decision D register online."""

    __tablename__ = "laissez_passer"
    __table_args__ = (
        Index("uq_laissez_passer_actif", "eleve_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    eleve_id: Mapped[int] = mapped_column(ForeignKey("eleves.id", ondelete="CASCADE"))
    motif: Mapped[str] = mapped_column(String(255), default="")
    granted_by: Mapped[str] = mapped_column(String(254))
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_by: Mapped[Optional[str]] = mapped_column(String(254))
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    eleve: Mapped[Eleve] = relationship(back_populates="laissez_passer")


class AutorisationTardive(db.Model):
    """Lets one named candidate register during a late window."""

    __tablename__ = "autorisations_tardives"
    __table_args__ = (CheckConstraint(_in("service", SERVICES), name="service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_examen.id"))
    service: Mapped[str] = mapped_column(String(14))
    examen_id: Mapped[int] = mapped_column(ForeignKey("examens.id"))
    etablissement_id: Mapped[Optional[int]] = mapped_column(ForeignKey("etablissements.id"))
    nom: Mapped[str] = mapped_column(String(60))
    prenom: Mapped[str] = mapped_column(String(40))
    cle_tri: Mapped[bytes] = _cle_column("autorisations_tardives")
    date_naissance: Mapped[date] = mapped_column(Date)
    # normalised "NOM|PRENOM|AAAA-MM-JJ", the same key as Inscription.cle_identite
    cle_identite: Mapped[str] = mapped_column(String(200), index=True)
    motif: Mapped[str] = mapped_column(String(255), default="")
    granted_by: Mapped[str] = mapped_column(String(254))
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    examen: Mapped[Examen] = relationship()


class Candidat(db.Model):
    """The person behind a registration: identity, contact and status."""

    __tablename__ = "candidats"
    __table_args__ = (
        CheckConstraint(_in("sexe", SEXES), name="sexe"),
        CheckConstraint(_in("statut", STATUTS_CANDIDAT), name="statut"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nom_naissance: Mapped[str] = mapped_column(String(60))
    nom_usage: Mapped[str] = mapped_column(String(60), default="")
    prenom1: Mapped[str] = mapped_column(String(40))
    prenom2: Mapped[str] = mapped_column(String(40), default="")
    prenom3: Mapped[str] = mapped_column(String(40), default="")
    cle_tri: Mapped[bytes] = _cle_column("candidats")
    sexe: Mapped[str] = mapped_column(String(1))
    date_naissance: Mapped[date] = mapped_column(Date)
    commune_naissance: Mapped[str] = mapped_column(String(80))
    pays_naissance: Mapped[str] = mapped_column(String(60))
    nationalite: Mapped[str] = mapped_column(String(60))
    ine: Mapped[str] = mapped_column(String(11), default="")
    statut: Mapped[str] = mapped_column(String(24))
    email: Mapped[str] = mapped_column(String(254), default="")
    telephone: Mapped[str] = mapped_column(String(20), default="")
    adresse1: Mapped[str] = mapped_column(String(120), default="")
    adresse2: Mapped[str] = mapped_column(String(120), default="")
    code_postal: Mapped[str] = mapped_column(String(10), default="")
    commune: Mapped[str] = mapped_column(String(80), default="")
    pays: Mapped[str] = mapped_column(String(60), default="France")

    @property
    def prenoms(self) -> str:
        return " ".join(p for p in (self.prenom1, self.prenom2, self.prenom3) if p)


class Inscription(db.Model):
    """A registration ``N-V`` of a candidate to one exam and specialty in a session."""

    __tablename__ = "inscriptions"
    __table_args__ = (
        UniqueConstraint("session_id", "numero"),
        CheckConstraint(_in("statut", STATUTS_INSCRIPTION), name="statut"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(_in("forme", FORMES), name="forme"),
        CheckConstraint("version >= 0", name="version"),
        CheckConstraint("numero > 0", name="numero"),
        CheckConstraint("(source = 'public') = (etablissement_id IS NULL)", name="source_etablissement"),
        # One active registration per person, exam and session: two simultaneous
        # submissions cannot both pass.
        Index("uq_inscriptions_active_personne", "session_id", "examen_id", "cle_identite", unique=True,
              sqlite_where=text("statut = 'active'"), postgresql_where=text("statut = 'active'")),
        Index("ix_inscriptions_etab_specialite", "etablissement_id", "specialite_id"),
        Index("ix_inscriptions_session_seq", "session_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_examen.id"))
    numero: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    candidat_id: Mapped[int] = mapped_column(ForeignKey("candidats.id"), unique=True)
    etablissement_id: Mapped[Optional[int]] = mapped_column(ForeignKey("etablissements.id"))
    examen_id: Mapped[int] = mapped_column(ForeignKey("examens.id"))
    specialite_id: Mapped[int] = mapped_column(ForeignKey("specialites.id"))
    forme: Mapped[str] = mapped_column(String(11))
    # None when the question was not asked (shown nowhere then).
    section_europeenne: Mapped[Optional[bool]] = mapped_column(Boolean)
    statut: Mapped[str] = mapped_column(String(7), default="active")
    source: Mapped[str] = mapped_column(String(13))
    cle_identite: Mapped[str] = mapped_column(String(200))
    eleve_id: Mapped[Optional[int]] = mapped_column(ForeignKey("eleves.id"))
    # Decision S: its condition note, shown on the confirmation.
    condition: Mapped[str] = mapped_column(String(255), default="")
    # The pupil left the establishment's base after registering: kept, and flagged.
    hors_base: Mapped[bool] = mapped_column(Boolean, default=False)
    tardive: Mapped[bool] = mapped_column(Boolean, default=False)
    # Public candidates: their secret (hashed) and a token rotated to end their sessions.
    secret_hash: Mapped[Optional[str]] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64), default=new_token)
    # Change sequence of the session, allocated in commit order: the unload cursor.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    annulee_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    annulee_par: Mapped[Optional[str]] = mapped_column(String(254))

    session: Mapped[SessionExamen] = relationship()
    candidat: Mapped[Candidat] = relationship()
    etablissement: Mapped[Optional[Etablissement]] = relationship()
    examen: Mapped[Examen] = relationship()
    specialite: Mapped[Specialite] = relationship()
    eleve: Mapped[Optional[Eleve]] = relationship()
    versions: Mapped[list["InscriptionVersion"]] = relationship(
        back_populates="inscription", order_by="InscriptionVersion.version"
    )

    @property
    def numero_version(self) -> str:
        return f"{self.numero}-{self.version}"

    @property
    def annulee(self) -> bool:
        return self.statut == "annulee"


class InscriptionVersion(db.Model):
    """Snapshot of each version ``N-V`` as printed, with its verification code."""

    __tablename__ = "inscription_versions"
    __table_args__ = (UniqueConstraint("inscription_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inscription_id: Mapped[int] = mapped_column(ForeignKey("inscriptions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    donnees: Mapped[dict[str, Any]] = mapped_column(JSON)
    code_verification: Mapped[str] = mapped_column(String(16), unique=True)
    auteur: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    inscription: Mapped[Inscription] = relationship(back_populates="versions")


class ConfirmationPdf(db.Model):
    """Rendered bytes of an issued confirmation ``N-V``: it never changes once issued."""

    __tablename__ = "confirmations_pdf"

    inscription_id: Mapped[int] = mapped_column(
        ForeignKey("inscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    contenu: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    pages: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StatutPublication(db.Model):
    __tablename__ = "statuts_publication"
    __table_args__ = (
        UniqueConstraint("session_id", "specialite_id"),
        CheckConstraint(_in("statut", STATUTS_PUBLICATION), name="statut"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_examen.id"))
    specialite_id: Mapped[int] = mapped_column(ForeignKey("specialites.id"))
    statut: Mapped[str] = mapped_column(String(24))
    # Set by a manager's action: the nightly computation no longer moves it
    # (except "pret" which may still become "publie").
    gele: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    specialite: Mapped[Specialite] = relationship()


class HistoriqueStatut(db.Model):
    __tablename__ = "historique_statuts"
    __table_args__ = (Index("ix_historique_statuts_specialite", "session_id", "specialite_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_examen.id"))
    specialite_id: Mapped[int] = mapped_column(ForeignKey("specialites.id"))
    ancien: Mapped[Optional[str]] = mapped_column(String(24))
    nouveau: Mapped[str] = mapped_column(String(24))
    cause: Mapped[str] = mapped_column(String(255))
    auteur: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Verrou(db.Model):
    """The database lock for loads and unloads; it expires if its holder stops refreshing it."""

    __tablename__ = "verrous"

    nom: Mapped[str] = mapped_column(String(30), primary_key=True)
    actif: Mapped[bool] = mapped_column(Boolean, default=False)
    gestionnaire_id: Mapped[Optional[int]] = mapped_column(ForeignKey("gestionnaires.id"))
    acteur: Mapped[str] = mapped_column(String(254), default="")
    motif: Mapped[str] = mapped_column(String(255), default="")
    depuis: Mapped[Optional[datetime]] = mapped_column(DateTime)
    expire_at: Mapped[Optional[datetime]] = mapped_column(DateTime)


class AuditEvent(db.Model):
    """Append-only audit trail: who, when, from where, what, on what, outcome, before/after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(_in("outcome", ("succes", "echec", "refus")), name="outcome"),
        Index("ix_audit_events_objet", "objet_type", "objet_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[Optional[str]] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(254), index=True)
    etablissement_code: Mapped[Optional[str]] = mapped_column(String(8), index=True)
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(60), index=True)
    objet_type: Mapped[Optional[str]] = mapped_column(String(40))
    objet_id: Mapped[Optional[str]] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(6), default="succes")
    details: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)


class Brouillon(db.Model):
    """A registration being entered step by step. Kept on the server so that no personal
    data travels in the (signed, not encrypted) session cookie, which holds only the id."""

    __tablename__ = "brouillons"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    donnees: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PosteOuvert(db.Model):
    """A school computer opened for pupils with the registration password: the server's record
    of that computer's session, whose id the session holds. Closing the computer deletes the
    row, so that a copied cookie stops working while the school's other computers stay open;
    rows older than the absolute session lifetime are expired and purged."""

    __tablename__ = "postes_ouverts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_token)
    etablissement_id: Mapped[int] = mapped_column(ForeignKey("etablissements.id", ondelete="CASCADE"),
                                                  index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class GenerationDonnees(db.Model):
    """One row (id 1): a counter that database triggers raise whenever a table read by every
    page changes (see ``portal/generation.py``). A process keeps those reads between
    requests and drops them as soon as the counter moved, so that several instances stay
    correct without talking to each other."""

    __tablename__ = "generation_donnees"

    id: Mapped[int] = mapped_column(primary_key=True)
    valeur: Mapped[int] = mapped_column(BigInteger, default=0)


def _refresh_cles_tri(_mapper, _connection, target) -> None:
    """An ORM update of a name (or label) updates its sort key in the same statement."""
    state = inspect(target)
    for cle, champs in CLES_TRI[target.__tablename__].items():
        if any(state.attrs[champ].history.has_changes() for champ in champs):
            setattr(target, cle, _cle_tri(*(getattr(target, champ) for champ in champs)))


for _model in (Candidat, Eleve, Specialite, Etablissement, Gestionnaire, AutorisationTardive):
    event.listen(_model, "before_update", _refresh_cles_tri)
