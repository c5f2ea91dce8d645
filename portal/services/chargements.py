"""Loads (chargements): establishments, the specialty catalogue, pupil bases.

A load has two phases. ``create_preview`` keeps the uploaded file server-side under a
random name, reads it line by line and reports what it would create, update and remove,
with every error (line and column). ``run`` re-reads and re-validates the same file
(its SHA-256 checked again) and writes everything in one transaction; a file with any
error writes nothing. Every written row leaves an ``EchangeTrace`` with its previous
values, so that ``cancel`` can undo a successful load.

A pupil base is a purge and re-import for (session, establishment): pupils missing from
the new file get ``present=False`` (their registrations, if any, are kept and flagged
``hors_base``), pupils back in the file get ``present=True``, new ones are created.
Pupil bases are staged and written set-based (``base_eleves``): the file is read once
per phase, whatever its size.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.orm import selectinload

from .. import generation
from ..extensions import db
from ..models import (
    EXAMENS,
    TYPES_ETABLISSEMENT,
    AutorisationTardive,
    Echange,
    EchangeTrace,
    Eleve,
    Etablissement,
    Examen,
    HistoriqueStatut,
    Inscription,
    LaissezPasser,
    SessionExamen,
    Specialite,
    StatutPublication,
    cles_tri,
    etablissement_specialites,
    utcnow,
)
from . import ServiceError, audit, base_eleves, echanges, verrou
from .csvimport import CsvReader, FichierInvalide
from .passwords import hash_password

TYPES = echanges.TYPES_CHARGEMENT
CHUNK = 5000
SAMPLE = 10
MAX_ERREURS = 10_000
UPLOAD_MAX_AGE = 24 * 3600

COLONNES = {
    "etablissements": (("code_uai", "nom", "type"), ("commune", "specialites", "ccf")),
    "specialites": (("examen", "code", "libelle", "globale", "progressive"),
                    ("europeenne", "integrable", "habilitation_requise", "acces_direct_a_verifier",
                     "validation_rectorat")),
    "eleves": (("ine", "nom", "prenoms", "date_naissance", "examen", "decision"), ("specialite", "note")),
}

UAI_RE = re.compile(r"^\d{7}[A-Z]$")
INE_RE = re.compile(r"^\d{9}[0-9A-Z][A-Z]$")
CODE_SPECIALITE_RE = re.compile(r"^[A-Z0-9]{1,10}$")
OUI = {"oui", "o", "1", "vrai", "true", "yes", "y", "x"}
NON = {"non", "n", "0", "faux", "false", "no", ""}

ETAB_CHAMPS = ("nom", "type", "commune", "ccf_habilite", "specialites")
SPECIALITE_CHAMPS = ("libelle", "forme_globale", "forme_progressive", "section_europeenne_possible",
                     "integrable", "habilitation_requise", "acces_direct_a_verifier", "validation_rectorat",
                     "actif")


class ChargementRefuse(ServiceError):
    """The file has errors: nothing is written."""

    def __init__(self, apercu: dict[str, Any]):
        n = apercu["nb_erreurs"]
        super().__init__(f"Le fichier contient {n} erreur{'s' if n > 1 else ''} : rien n'a été chargé.")
        self.apercu = apercu


# --- the uploaded file, kept server-side between preview and apply ------------------------


def upload_dir() -> Path:
    configured = current_app.config.get("CHARGEMENTS_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "chargements"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _jeton_valide(jeton: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", jeton or ""):
        raise ServiceError("Aperçu introuvable ou expiré : déposez le fichier à nouveau.")
    return jeton


def file_path(jeton: str) -> Path:
    return upload_dir() / f"{_jeton_valide(jeton)}.csv"


def _meta_path(jeton: str) -> Path:
    return upload_dir() / f"{_jeton_valide(jeton)}.json"


def clean_name(nom: str | None) -> str:
    """The user's file name, for display only (it never becomes a path)."""
    base = re.split(r"[\\/]", nom or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return (base or "fichier.csv")[:255]


def store_upload(stream: BinaryIO, nom: str | None) -> dict[str, Any]:
    """Copy the upload in chunks to a file named by a random id, hashing it on the way."""
    purge_old_uploads()
    jeton = uuid.uuid4().hex
    digest = hashlib.sha256()
    taille = 0
    with open(file_path(jeton), "wb") as out:
        while chunk := stream.read(64 * 1024):
            digest.update(chunk)
            taille += len(chunk)
            out.write(chunk)
    return {"jeton": jeton, "nom": clean_name(nom), "sha256": digest.hexdigest(), "taille": taille}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(64 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def load_preview(jeton: str) -> dict[str, Any] | None:
    try:
        return json.loads(_meta_path(jeton).read_text(encoding="utf-8"))
    except (FileNotFoundError, ServiceError, ValueError):
        return None


def _save_preview(meta: dict[str, Any]) -> None:
    _meta_path(meta["jeton"]).write_text(json.dumps(meta, ensure_ascii=False, default=str), encoding="utf-8")


def discard_preview(jeton: str) -> None:
    for path in (file_path(jeton), _meta_path(jeton)):
        path.unlink(missing_ok=True)


def purge_old_uploads() -> None:
    """Files of previews nobody applied nor abandoned are removed after a day."""
    limit = time.time() - UPLOAD_MAX_AGE
    for path in upload_dir().glob("*.*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:  # pragma: no cover - removed meanwhile
            pass


# --- what a load works on -------------------------------------------------------------


@dataclass
class Rapport:
    """Line-level errors, all counted, the first MAX_ERREURS kept."""

    erreurs: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def add(self, ligne: int, colonne: str, message: str) -> None:
        self.total += 1
        if len(self.erreurs) < MAX_ERREURS:
            self.erreurs.append({"ligne": ligne, "colonne": colonne, "message": message})


@dataclass
class Contexte:
    """Reference data loaded once per load (no query per line)."""

    type: str
    session_examen: SessionExamen | None = None
    etablissement: Etablissement | None = None
    examens: dict[str, int] = field(default_factory=dict)
    specialites: dict[tuple[str, str], Specialite] = field(default_factory=dict)
    etablissements: dict[str, Etablissement] = field(default_factory=dict)

    def cible(self) -> base_eleves.Cible:
        return base_eleves.Cible(self.session_examen.id, self.etablissement.id)


def load_context(type_: str, *, session_examen: SessionExamen | None = None,
                 etablissement: Etablissement | None = None) -> Contexte:
    if type_ not in TYPES:
        raise ServiceError("Type de chargement inconnu.", "type")
    if type_ == "eleves" and (session_examen is None or etablissement is None):
        raise ServiceError("Une base élèves se charge pour un établissement dans la session courante.",
                           "etablissement")
    ctx = Contexte(type_, session_examen, etablissement)
    ctx.examens = {e.code: e.id for e in db.session.scalars(select(Examen))}
    for spec in db.session.scalars(select(Specialite).options(selectinload(Specialite.examen))):
        ctx.specialites[(spec.examen.code, spec.code)] = spec
    if type_ == "etablissements":
        query = select(Etablissement).options(selectinload(Etablissement.specialites))
        ctx.etablissements = {e.code: e for e in db.session.scalars(query)}
    return ctx


# --- reading and validating lines -----------------------------------------------------


def _bool(value: str, colonne: str, ligne: int, rapport: Rapport) -> bool | None:
    lowered = value.strip().lower()
    if lowered in OUI:
        return True
    if lowered in NON:
        return False
    rapport.add(ligne, colonne, f"Valeur « {value[:40]} » non reconnue : indiquez oui ou non.")
    return None


def _text(row: dict[str, str], colonne: str, ligne: int, rapport: Rapport, *, max_len: int,
          required: bool = True) -> str | None:
    value = " ".join(row.get(colonne, "").split())
    if required and not value:
        rapport.add(ligne, colonne, "Valeur obligatoire manquante.")
        return None
    if len(value) > max_len:
        rapport.add(ligne, colonne, f"Valeur trop longue ({len(value)} caractères, {max_len} au plus).")
        return None
    return value


def _parse_etablissement(ligne: int, row: dict[str, str], ctx: Contexte, rapport: Rapport) -> dict | None:
    before = rapport.total
    code = row["code_uai"].strip().upper()
    if not UAI_RE.match(code):
        rapport.add(ligne, "code_uai", "Code UAI invalide : 7 chiffres suivis d'une lettre (ex. 0130001A).")
    nom = _text(row, "nom", ligne, rapport, max_len=120)
    type_ = row["type"].strip().upper()
    if type_ not in TYPES_ETABLISSEMENT:
        rapport.add(ligne, "type", f"Type inconnu : indiquez {', '.join(TYPES_ETABLISSEMENT)}.")
    commune = _text(row, "commune", ligne, rapport, max_len=80, required=False)
    ccf = _bool(row["ccf"], "ccf", ligne, rapport)
    specialites = []
    for item in filter(None, (p.strip().upper() for p in row["specialites"].split("|"))):
        examen, _, code_spec = item.partition(":")
        spec = ctx.specialites.get((examen.strip(), code_spec.strip()))
        if spec is None:
            rapport.add(ligne, "specialites", f"Spécialité « {item[:30]} » inconnue du catalogue "
                                              "(forme attendue EXAMEN:CODE, ex. BCP:MELEC).")
        elif spec not in specialites:
            specialites.append(spec)
    if rapport.total > before:
        return None
    return {"cle": code, "code": code, "nom": nom, "type": type_, "commune": commune, "ccf_habilite": ccf,
            "specialites": specialites}


def _parse_specialite(ligne: int, row: dict[str, str], ctx: Contexte, rapport: Rapport) -> dict | None:
    before = rapport.total
    examen = row["examen"].strip().upper()
    if examen not in EXAMENS:
        rapport.add(ligne, "examen", f"Examen inconnu : indiquez {', '.join(EXAMENS)}.")
    code = row["code"].strip().upper()
    if not CODE_SPECIALITE_RE.match(code):
        rapport.add(ligne, "code", "Code de spécialité invalide : 1 à 10 lettres ou chiffres.")
    libelle = _text(row, "libelle", ligne, rapport, max_len=200)
    values = {"libelle": libelle}
    for colonne, attr, default in (("globale", "forme_globale", None),
                                   ("progressive", "forme_progressive", None),
                                   ("europeenne", "section_europeenne_possible", False),
                                   ("integrable", "integrable", True),
                                   ("habilitation_requise", "habilitation_requise", False),
                                   ("acces_direct_a_verifier", "acces_direct_a_verifier", False),
                                   ("validation_rectorat", "validation_rectorat", False)):
        raw = row[colonne]
        if default is not None and not raw.strip():
            values[attr] = default
        else:
            values[attr] = _bool(raw, colonne, ligne, rapport)
    if values["forme_globale"] is False and values["forme_progressive"] is False:
        rapport.add(ligne, "globale",
                    "La spécialité doit permettre au moins une forme (globale ou progressive).")
    if values["section_europeenne_possible"] and examen in EXAMENS and examen != "BCP":
        rapport.add(ligne, "europeenne",
                    "La section européenne n'existe que pour le baccalauréat professionnel.")
    if rapport.total > before:
        return None
    return {"cle": (examen, code), "examen": examen, "code": code, **values, "actif": True}


PARSERS = {"etablissements": _parse_etablissement, "specialites": _parse_specialite}
DOUBLON = {"etablissements": "même code UAI", "specialites": "même examen et même code"}


def read_records(path: Path, ctx: Contexte, rapport: Rapport,
                 progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, dict]]:
    """The valid records of the file; problems go to ``rapport``. Streams the file."""
    required, optional = COLONNES[ctx.type]
    parse = PARSERS[ctx.type]
    seen: dict[Any, int] = {}
    with open(path, "rb") as fh:
        try:
            reader = CsvReader(fh, required, optional)
            for ligne, row in reader:
                record = parse(ligne, row, ctx, rapport)
                if progress is not None and ligne % 1000 == 0:
                    progress(fh.tell())
                if record is None:
                    continue
                first = seen.setdefault(record["cle"], ligne)
                if first != ligne:
                    rapport.add(ligne, "", f"Doublon : {DOUBLON[ctx.type]} qu'à la ligne {first}.")
                    continue
                yield ligne, record
            for erreur in reader.errors:
                rapport.add(erreur.ligne, erreur.colonne, erreur.message)
        except FichierInvalide as exc:
            rapport.add(exc.ligne or 0, "", exc.message)
    rapport.erreurs.sort(key=lambda e: e["ligne"])


# --- planning: what each valid line does -----------------------------------------------


@dataclass
class Op:
    action: str  # cree, modifie, purge
    record: dict[str, Any] | None = None
    objet_id: int | None = None
    avant: dict[str, Any] | None = None
    changements: list[str] = field(default_factory=list)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [getattr(v, "id", v) for v in value]
    return value


def _snapshot(obj: Any, champs: Iterable[str]) -> dict[str, Any]:
    if isinstance(obj, dict):
        return {k: _jsonable(obj[k]) for k in champs}
    values = {k: _jsonable(getattr(obj, k)) for k in champs}
    if "specialites" in values:
        values["specialites"] = sorted(values["specialites"])
    return values


def _changes(avant: dict[str, Any], record: dict[str, Any], champs: Iterable[str]) -> list[str]:
    apres = {k: _jsonable(record[k]) for k in champs if k in record}
    if "specialites" in apres:
        apres["specialites"] = sorted(apres["specialites"])
    return [k for k in apres if apres[k] != avant.get(k)]


def plan(ctx: Contexte, records: Iterable[tuple[int, dict]]) -> Iterator[Op]:
    existing = ctx.etablissements if ctx.type == "etablissements" else ctx.specialites
    champs = ETAB_CHAMPS if ctx.type == "etablissements" else SPECIALITE_CHAMPS
    for _ligne, record in records:
        obj = existing.get(record["cle"])
        if obj is None:
            yield Op("cree", record)
            continue
        avant = _snapshot(obj, champs)
        changements = _changes(avant, record, champs)
        if changements:
            yield Op("modifie", record, obj.id, avant, changements)


# --- preview ------------------------------------------------------------------------------


def _libelle(type_: str, record: dict[str, Any]) -> str:
    if type_ == "etablissements":
        return f"{record['code']} - {record['nom']}"
    return f"{record['examen']} {record['code']} - {record['libelle']}"


def _apercu(type_: str, lignes: int, rapport: Rapport, **counts: Any) -> dict[str, Any]:
    return {"type": type_, "lignes_valides": lignes,
            "crees": 0, "modifies": 0, "supprimes": 0, "hors_base": 0,
            "exemples": {"cree": [], "modifie": [], "purge": []}, **counts,
            "erreurs": rapport.erreurs, "nb_erreurs": rapport.total}


def analyse(ctx: Contexte, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Dry run: counts, samples of each action and every error. Writes nothing."""
    if ctx.type == "eleves":
        return _analyse_eleves(ctx, path, progress)
    rapport = Rapport()
    lignes = 0
    counts = {"cree": 0, "modifie": 0}
    exemples: dict[str, list] = {"cree": [], "modifie": [], "purge": []}

    def counted(records):
        nonlocal lignes
        for item in records:
            lignes += 1
            yield item

    for op in plan(ctx, counted(read_records(path, ctx, rapport, progress))):
        counts[op.action] += 1
        if len(exemples[op.action]) < SAMPLE:
            exemples[op.action].append({"libelle": _libelle(ctx.type, op.record),
                                        "changements": op.changements})
    return _apercu(ctx.type, lignes, rapport, crees=counts["cree"], modifies=counts["modifie"],
                   exemples=exemples)


def _chunks(ids: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


# --- pupil bases: one read of the file, staged, compared and written by the database --------


def _stage_eleves(ctx: Contexte, path: Path, rapport: Rapport,
                  progress: Callable[[int], None] | None = None, *, cles: bool = True) -> int:
    """Check every line and stage the valid ones; returns the number of distinct valid
    pupils. Problems go to ``rapport`` (sorted by line). ``cles``: with the pupils' sort
    keys (the writes need them, the preview does not)."""
    required, optional = COLONNES["eleves"]
    validate = base_eleves.Validateur(ctx, rapport, cles=cles)
    lignes = 0
    with open(path, "rb") as fh:
        try:
            reader = CsvReader(fh, required, optional)
        except FichierInvalide as exc:
            reader = None
            rapport.add(exc.ligne or 0, "", exc.message)
        if reader is not None:
            lignes = base_eleves.stage(_valid_rows(reader, validate, rapport, _ticker(fh, progress)))
            for erreur in reader.errors:
                rapport.add(erreur.ligne, erreur.colonne, erreur.message)
            lignes -= base_eleves.report_duplicates(rapport)
    rapport.erreurs.sort(key=lambda e: e["ligne"])
    return lignes


def _valid_rows(reader: CsvReader, validate: base_eleves.Validateur, rapport: Rapport,
                tick: Callable[[int], None]) -> Iterator[tuple]:
    """The staging rows of the valid lines. A problem of the whole file ends the rows
    quietly (and is reported): the bulk write in progress must end normally, since an
    aborted COPY would abort the transaction the refusal is recorded in."""
    try:
        for ligne, values in reader.records():
            row = validate(ligne, values)
            if ligne % 1000 == 0:
                tick(ligne)
            if row is not None:
                yield row
    except FichierInvalide as exc:
        rapport.add(exc.ligne or 0, "", exc.message)


def _ticker(fh: BinaryIO, progress: Callable[[int], None] | None) -> Callable[[int], None]:
    if progress is None:
        return lambda _ligne: None
    return lambda _ligne: progress(fh.tell())


def _analyse_eleves(ctx: Contexte, path: Path,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    rapport = Rapport()
    lignes = _stage_eleves(ctx, path, rapport, progress, cles=False)
    counts = base_eleves.summarise(ctx.cible()) if not rapport.total else {}
    base_eleves.drop_stage()
    return _apercu("eleves", lignes, rapport, **counts)


def _apply_eleves(ctx: Contexte, echange: Echange, path: Path,
                  progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """The file is read (and checked) once, then written by a few set-based statements."""
    rapport = Rapport()
    lignes = _stage_eleves(ctx, path, rapport, progress)
    if rapport.total:
        raise ChargementRefuse(_apercu("eleves", lignes, rapport))
    echanges.heartbeat(echange.id)
    counts = base_eleves.Ecriture(ctx.cible(), echange.id, lambda: echanges.heartbeat(echange.id)).run()
    base_eleves.drop_stage()
    return {"lignes": lignes, **counts}


def create_preview(type_: str, stream: BinaryIO, nom: str | None, *, session_examen: SessionExamen | None,
                   etablissement: Etablissement | None, gestionnaire_id: int | None,
                   acteur: str) -> dict[str, Any]:
    """Keep the upload server-side, analyse it, and remember the result for ``run``.

    A refused file (errors) is recorded at once as a failed exchange with its report."""
    ctx = load_context(type_, session_examen=session_examen, etablissement=etablissement)
    meta = store_upload(stream, nom)
    meta.update(type=type_, gestionnaire_id=gestionnaire_id, created_at=utcnow().isoformat(),
                session_id=session_examen.id if session_examen else None,
                etablissement_id=etablissement.id if etablissement else None,
                etablissement_code=etablissement.code if etablissement else None)
    meta["apercu"] = analyse(ctx, file_path(meta["jeton"]))
    if meta["apercu"]["nb_erreurs"]:
        meta["echange_id"] = _record_refusal(meta, acteur=acteur).id
    _save_preview(meta)
    return meta


def _record_refusal(meta: dict[str, Any], *, acteur: str) -> Echange:
    apercu = meta["apercu"]
    echange = Echange(type=meta["type"], etat="echec", acteur=acteur, gestionnaire_id=meta["gestionnaire_id"],
                      session_id=meta["session_id"], etablissement_id=meta["etablissement_id"],
                      fichier_nom=meta["nom"], fichier_sha256=meta["sha256"], fichier_taille=meta["taille"],
                      finished_at=utcnow(), nb_lignes=apercu["lignes_valides"],
                      nb_erreurs=apercu["nb_erreurs"], rapport=apercu["erreurs"],
                      message=ChargementRefuse(apercu).message)
    db.session.add(echange)
    db.session.flush()
    audit.record("echange.refuse", echange, outcome="echec",
                 details={"type": meta["type"], "fichier": meta["nom"], "erreurs": apercu["nb_erreurs"]})
    return echange


# --- apply ----------------------------------------------------------------------------


def _trace_rows(echange_id: int, objet: str, ops: Iterable[tuple[int, str, dict | None]]) -> None:
    rows = [{"echange_id": echange_id, "objet": objet, "objet_id": objet_id, "action": action, "avant": avant}
            for objet_id, action, avant in ops]
    for chunk in _chunks(rows):
        db.session.execute(insert(EchangeTrace), chunk)


class _Writer:
    """Applies the operations of one load; subclasses know one kind of row."""

    objet = ""

    def __init__(self, ctx: Contexte, echange: Echange):
        self.ctx, self.echange = ctx, echange
        self.counts = {"cree": 0, "modifie": 0, "purge": 0}

    def write(self, ops: Iterable[Op]) -> dict[str, int]:
        for op in ops:
            self.counts[op.action] += 1
            getattr(self, op.action)(op)
            if sum(self.counts.values()) % CHUNK == 0:
                self.flush()
                echanges.heartbeat(self.echange.id)
        self.flush()
        self.finish()
        return self.counts

    def flush(self) -> None:
        db.session.flush()

    def finish(self) -> None:
        pass


class _EtablissementWriter(_Writer):
    objet = "Etablissement"

    def __init__(self, ctx, echange):
        super().__init__(ctx, echange)
        self.created: list[Etablissement] = []
        self.traces: list[tuple] = []

    def cree(self, op: Op) -> None:
        r = op.record
        etab = Etablissement(code=r["code"], nom=r["nom"], type=r["type"], commune=r["commune"],
                             ccf_habilite=r["ccf_habilite"], suivi_password_hash=hash_password(r["code"]),
                             inscription_password_hash=hash_password(r["code"]),
                             suivi_password_default=True, inscription_password_default=True)
        etab.specialites = list(r["specialites"])
        db.session.add(etab)
        self.created.append(etab)

    def modifie(self, op: Op) -> None:
        etab = self.ctx.etablissements[op.record["cle"]]
        for champ in ("nom", "type", "commune", "ccf_habilite"):
            setattr(etab, champ, op.record[champ])
        etab.specialites = list(op.record["specialites"])
        self.traces.append((etab.id, "modifie", op.avant))

    def flush(self) -> None:
        db.session.flush()
        self.traces.extend((etab.id, "cree", None) for etab in self.created)
        self.created = []
        _trace_rows(self.echange.id, self.objet, self.traces)
        self.traces = []


class _SpecialiteWriter(_EtablissementWriter):
    objet = "Specialite"

    def cree(self, op: Op) -> None:
        r = op.record
        spec = Specialite(examen_id=self.ctx.examens[r["examen"]], code=r["code"],
                          **{k: r[k] for k in SPECIALITE_CHAMPS})
        db.session.add(spec)
        self.created.append(spec)

    def modifie(self, op: Op) -> None:
        spec = self.ctx.specialites[op.record["cle"]]
        for champ in SPECIALITE_CHAMPS:
            setattr(spec, champ, op.record[champ])
        self.traces.append((spec.id, "modifie", op.avant))


WRITERS = {"etablissements": _EtablissementWriter, "specialites": _SpecialiteWriter}


def apply(ctx: Contexte, echange: Echange, path: Path, progress: Callable[[int], None] | None = None) -> dict:
    """Validate the whole file again, then write it. Flushes, never commits.

    Raises ChargementRefuse (nothing written) when any line is wrong."""
    if ctx.type == "eleves":
        return _apply_eleves(ctx, echange, path, progress)
    apercu = analyse(ctx, path, progress)
    if apercu["nb_erreurs"]:
        raise ChargementRefuse(apercu)
    rapport = Rapport()
    counts = WRITERS[ctx.type](ctx, echange).write(plan(ctx, read_records(path, ctx, rapport)))
    if rapport.total:  # pragma: no cover - the file was validated just above
        raise ChargementRefuse({**apercu, "erreurs": rapport.erreurs, "nb_erreurs": rapport.total})
    return {"lignes": apercu["lignes_valides"], **counts}


def run(meta: dict[str, Any], *, acteur: str, gestionnaire_id: int | None,
        progress: Callable[[int], None] | None = None) -> Echange:
    """Apply a previewed file as an exchange.

    This is the one place of the services that commits, and it does so on purpose: the
    running exchange must be visible to the other managers (and to a concurrent start)
    while the load writes, and its failure must be recorded after the rollback of the
    load's own transaction."""
    path = file_path(meta["jeton"])
    if not path.exists() or sha256_of(path) != meta["sha256"]:
        raise ServiceError("Le fichier déposé n'est plus disponible ou a changé depuis l'aperçu : "
                           "déposez-le à nouveau.")
    session_examen = db.session.get(SessionExamen, meta["session_id"]) if meta.get("session_id") else None
    etablissement = (db.session.get(Etablissement, meta["etablissement_id"])
                     if meta.get("etablissement_id") else None)
    echange = echanges.start(meta["type"], acteur=acteur, gestionnaire_id=gestionnaire_id,
                             session_id=meta.get("session_id") or _current_session_id(),
                             etablissement_id=meta.get("etablissement_id"),
                             fichier={"nom": meta["nom"], "sha256": meta["sha256"], "taille": meta["taille"]})
    verrou.refresh()
    db.session.commit()
    echange_id = echange.id
    try:
        ctx = load_context(meta["type"], session_examen=session_examen, etablissement=etablissement)
        counts = apply(ctx, echange, path, progress)
        echanges.finish(echange, lignes=counts["lignes"], crees=counts["cree"], modifies=counts["modifie"],
                        supprimes=counts["purge"], message=_summary(meta["type"], counts))
        if meta["type"] == "eleves":
            generation.bump()  # no trigger watches the pupils (portal/generation.py)
        db.session.commit()
    except ChargementRefuse as exc:
        _record_failure(echange_id, exc.message, exc.apercu)
        raise
    except Exception:
        _record_failure(echange_id, "Erreur inattendue pendant l'écriture : rien n'a été enregistré.")
        raise
    return echange


def _current_session_id() -> int | None:
    from .campagne import current_session

    found = current_session()
    return found.id if found else None


def _record_failure(echange_id: int, message: str, apercu: dict | None = None) -> None:
    db.session.rollback()
    echange = db.session.get(Echange, echange_id)
    echanges.fail(echange, message, rapport=(apercu or {}).get("erreurs"),
                  nb_erreurs=(apercu or {}).get("nb_erreurs"), lignes=(apercu or {}).get("lignes_valides", 0))
    db.session.commit()


def _summary(type_: str, counts: dict[str, int]) -> str:
    text = f"{counts['cree']} créé(s), {counts['modifie']} modifié(s)"
    if type_ == "eleves":
        text += f", {counts['purge']} retiré(s) de la base"
        if counts.get("hors_base"):
            text += (f" dont {counts['hors_base']} déjà inscrit(s) (inscriptions conservées, "
                     "signalées hors base)")
    return text + "."


# --- cancelling a load ------------------------------------------------------------------


def _trace_chunks(echange_id: int, objet: str, action: str) -> Iterator[list[EchangeTrace]]:
    last = 0
    while True:
        chunk = db.session.scalars(select(EchangeTrace).where(
            EchangeTrace.echange_id == echange_id, EchangeTrace.objet == objet, EchangeTrace.action == action,
            EchangeTrace.id > last).order_by(EchangeTrace.id).limit(CHUNK)).all()
        if not chunk:
            return
        last = chunk[-1].id
        yield chunk


def _ids(echange_id: int, objet: str, action: str) -> list[int]:
    return [t.objet_id for chunk in _trace_chunks(echange_id, objet, action) for t in chunk]


REFERENCES = {
    "Etablissement": ((Inscription.etablissement_id, "des inscriptions"),
                      (Eleve.etablissement_id, "une base élèves"),
                      (Echange.etablissement_id, "un chargement de base élèves"),
                      (AutorisationTardive.etablissement_id, "des autorisations tardives")),
    "Specialite": ((Inscription.specialite_id, "des inscriptions"), (Eleve.specialite_id, "des élèves"),
                   (etablissement_specialites.c.specialite_id, "des établissements qui la préparent")),
    "Eleve": ((Inscription.eleve_id, "des inscriptions"), (LaissezPasser.eleve_id, "des laissez-passer")),
}
NOMS_OBJETS = {"Etablissement": "établissements", "Specialite": "spécialités", "Eleve": "élèves"}


def _check_cancellable(echange: Echange) -> None:
    if echange.type not in TYPES:
        raise ServiceError("Seul un chargement peut être annulé.")
    if echange.etat != "succes":
        raise ServiceError("Seul un chargement réussi peut être annulé.")
    if verrou.current() is None:
        raise ServiceError("Verrouillez la base avant d'annuler un chargement.")
    later = EchangeTrace.__table__.alias("ulterieure")
    conflict = db.session.scalar(
        select(Echange.id).join(later, later.c.echange_id == Echange.id)
        .join(EchangeTrace, (EchangeTrace.objet == later.c.objet)
              & (EchangeTrace.objet_id == later.c.objet_id))
        .where(EchangeTrace.echange_id == echange.id, Echange.id > echange.id, Echange.etat == "succes")
        .limit(1))
    if conflict is not None:
        raise ServiceError(f"Impossible d'annuler : le chargement n° {conflict}, plus récent, a modifié "
                           "les mêmes données. Annulez-le d'abord.")
    for objet, references in REFERENCES.items():
        created = _ids(echange.id, objet, "cree")
        for column, what in references:
            for chunk in _chunks(created):
                if db.session.scalar(select(exists().where(column.in_(chunk)))):
                    raise ServiceError(f"Impossible d'annuler : des {NOMS_OBJETS[objet]} créés par ce "
                                       f"chargement sont maintenant utilisés par {what}.")


def cancel(echange: Echange, *, acteur: str) -> dict[str, int]:
    """Undo a successful load: remove what it created, restore what it updated or purged."""
    _check_cancellable(echange)
    counts = {"supprimes": 0, "restaures": 0}
    for chunk in _trace_chunks(echange.id, "Inscription", "modifie"):
        for trace in chunk:
            db.session.execute(update(Inscription).where(Inscription.id == trace.objet_id)
                               .values(hors_base=trace.avant["hors_base"])
                               .execution_options(synchronize_session=False))
    for objet, model in (("Eleve", Eleve), ("Etablissement", Etablissement), ("Specialite", Specialite)):
        counts["restaures"] += _restore(echange.id, objet, model)
        counts["supprimes"] += _delete_created(echange.id, objet, model)
    echange.etat = "annule"
    echange.annule_at = utcnow()
    echange.annule_par = acteur
    db.session.flush()
    audit.record("echange.annule", echange, details={**echanges.counts(echange), **counts})
    if echange.type == "eleves":
        generation.bump()  # no trigger watches the pupils (portal/generation.py)
    return counts


def _restore(echange_id: int, objet: str, model) -> int:
    count = 0
    for action in ("modifie", "purge"):
        for chunk in _trace_chunks(echange_id, objet, action):
            count += len(chunk)
            if model is Eleve:
                db.session.execute(update(Eleve), [_eleve_values(t) for t in chunk])
                continue
            for trace in chunk:
                obj = db.session.get(model, trace.objet_id)
                values = dict(trace.avant)
                if "specialites" in values:
                    ids = values.pop("specialites")
                    obj.specialites = list(db.session.scalars(
                        select(Specialite).where(Specialite.id.in_(ids))))
                for key, value in values.items():
                    setattr(obj, key, value)
    db.session.flush()
    return count


def _eleve_values(trace: EchangeTrace) -> dict[str, Any]:
    values = {"id": trace.objet_id, **trace.avant}
    values["date_naissance"] = date.fromisoformat(values["date_naissance"])
    values.update(cles_tri("eleves", values))  # a bulk UPDATE runs no ORM event
    return values


def _delete_created(echange_id: int, objet: str, model) -> int:
    ids = _ids(echange_id, objet, "cree")
    for chunk in _chunks(ids):
        if model is Etablissement:
            db.session.execute(delete(etablissement_specialites)
                               .where(etablissement_specialites.c.etablissement_id.in_(chunk)))
        if model is Specialite:
            db.session.execute(delete(StatutPublication).where(StatutPublication.specialite_id.in_(chunk)))
            db.session.execute(delete(HistoriqueStatut).where(HistoriqueStatut.specialite_id.in_(chunk)))
        db.session.execute(delete(model).where(model.id.in_(chunk))
                           .execution_options(synchronize_session=False))
    if ids:
        db.session.expire_all()
    return len(ids)
