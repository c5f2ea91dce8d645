"""Loads of the reference data: establishments and the specialty catalogue, read, planned
line by line, previewed and written with a trace of each row's previous values.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from ...extensions import db
from ...models import (
    EXAMENS,
    TYPES_ETABLISSEMENT,
    Echange,
    EchangeTrace,
    Etablissement,
    Specialite,
)
from .. import echanges
from ..csvimport import CsvReader, FichierInvalide
from ..passwords import hash_password
from .contexte import (
    CHUNK,
    CODE_SPECIALITE_RE,
    COLONNES,
    ETAB_CHAMPS,
    NON,
    OUI,
    SAMPLE,
    SPECIALITE_CHAMPS,
    UAI_RE,
    ChargementRefuse,
    Contexte,
    Rapport,
    apercu,
    par_paquets,
)


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


def analyse_referentiel(ctx: Contexte, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Dry run: counts, samples of each action and every error. Writes nothing."""
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
    return apercu(ctx.type, lignes, rapport, crees=counts["cree"], modifies=counts["modifie"],
                   exemples=exemples)


# --- apply ----------------------------------------------------------------------------


def _trace_rows(echange_id: int, objet: str, ops: Iterable[tuple[int, str, dict | None]]) -> None:
    rows = [{"echange_id": echange_id, "objet": objet, "objet_id": objet_id, "action": action, "avant": avant}
            for objet_id, action, avant in ops]
    for chunk in par_paquets(rows):
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


def apply_referentiel(ctx: Contexte, echange: Echange, path: Path, progress: Callable[[int], None] | None = None) -> dict:
    """Validate the whole file again, then write it. Flushes, never commits.

    Raises ChargementRefuse (nothing written) when any line is wrong."""
    apercu = analyse_referentiel(ctx, path, progress)
    if apercu["nb_erreurs"]:
        raise ChargementRefuse(apercu)
    rapport = Rapport()
    counts = WRITERS[ctx.type](ctx, echange).write(plan(ctx, read_records(path, ctx, rapport)))
    if rapport.total:  # pragma: no cover - the file was validated just above
        raise ChargementRefuse({**apercu, "erreurs": rapport.erreurs, "nb_erreurs": rapport.total})
    return {"lignes": apercu["lignes_valides"], **counts}
