"""Pupil bases: the file checked once, staged in a temporary table, written set-based.

Why: a base has up to 200,000 lines, and one ORM object (or one statement, or one undo
trace built in Python) per line made a 100,000-line load last close to a minute. Here
each line is checked in plain Python (precompiled patterns, dict lookups, a cache of
birth dates) while it streams into the TEMP table ``eleves_import`` through the
database's bulk path (COPY on PostgreSQL, DB-API executemany on SQLite). Duplicates,
the comparison with the current base, the writes and their undo traces (with the
previous values as JSON built by the database) are then a handful of
``INSERT ... SELECT`` / ``UPDATE ... FROM`` statements in the load's transaction.

The staging table lives in the transaction's connection only: a rollback (a refused
file, an error) takes it away with everything else.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from ...collation import cle_tri
from ...extensions import db
from ...models import DECISIONS, EXAMENS, EchangeTrace, Eleve, Examen, Inscription, utcnow
from ..identite import probleme_date_naissance
from .contexte import Contexte, Rapport

COLONNES = ("ine", "nom", "prenoms", "date_naissance", "examen", "decision", "specialite", "note")
# The values a load compares and an undo trace keeps (``echange_id``: who wrote it last).
CHAMPS = ("nom", "prenoms", "date_naissance", "specialite_id", "decision", "note", "present", "echange_id")
COMPARES = CHAMPS[:6]
SQLITE_BATCH = 5000
SAMPLE = 10

INE_RE = re.compile(r"\d{9}[0-9A-Z][A-Z]")
DATE_RE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
DECISION_SET = frozenset(DECISIONS)

STAGE = Table(
    "eleves_import", MetaData(),
    Column("ligne", Integer), Column("ine", String(11)), Column("examen_id", Integer),
    Column("nom", String(60)), Column("prenoms", String(120)), Column("date_naissance", Date),
    Column("specialite_id", Integer), Column("decision", String(1)), Column("note", String(255)),
    Column("cle_tri", LargeBinary),
    prefixes=["TEMPORARY"],
)
STAGE_COLUMNS = tuple(c.name for c in STAGE.columns)


# --- checking lines -----------------------------------------------------------------------


class Validateur:
    """Checks the lines of a pupil base; reference data is looked up in dicts built once.

    Returns the staging tuple of a valid line, None (errors in ``rapport``) otherwise.
    Dates are kept as ISO text, which both databases read into a DATE column. A line
    passing the one-expression test is valid; any other goes through ``_report``, which
    names each problem and is the reference of the rules."""

    def __init__(self, ctx: Contexte, rapport: Rapport, *, cles: bool = True):
        self.rapport = rapport
        # The preview compares and counts, it writes no pupil: no sort key needed there.
        self.cles = cles
        self.examens = ctx.examens
        self.specialites = {key: spec.id for key, spec in ctx.specialites.items()}
        self.dates: dict[str, str | None] = {}
        self.today = date.today()

    def __call__(self, ligne: int, values: tuple[str, ...]) -> tuple | None:
        ine, nom, prenoms, naissance, examen, decision, code_spec, note = values
        ine, examen, decision, code_spec = ine.upper(), examen.upper(), decision.upper(), code_spec.upper()
        # Names stored as every writer stores them (Eleve.normalise_*): an unchanged line
        # compares equal to its stored pupil.
        nom, prenoms, note = Eleve.normalise_nom(nom), Eleve.normalise_prenoms(prenoms), " ".join(note.split())
        iso = self.dates.get(naissance) or self._date(naissance)
        examen_id = self.examens.get(examen)
        specialite_id = self.specialites.get((examen, code_spec)) if code_spec else None
        if not (INE_RE.fullmatch(ine) and 0 < len(nom) <= 60 and 0 < len(prenoms) <= 120 and iso
                and examen_id and (specialite_id or not code_spec) and decision in DECISION_SET
                and len(note) <= 255):
            if self._report(ligne, ine, nom, prenoms, iso, examen, code_spec, decision, note, naissance):
                return None
        return (ligne, ine, examen_id, nom, prenoms, iso, specialite_id, decision, note,
                cle_tri(nom, prenoms) if self.cles else None)

    def _report(self, ligne: int, ine: str, nom: str, prenoms: str, iso: str | None, examen: str,
                code_spec: str, decision: str, note: str, naissance: str = "") -> bool:
        """Every problem of the line, column by column; True when there is one."""
        before = self.rapport.total
        add = self.rapport.add
        if not INE_RE.fullmatch(ine):
            add(ligne, "ine", "INE invalide : 11 caractères, 9 chiffres puis 2 chiffres ou lettres "
                              "(ex. 123456789AB).")
        self._text(ligne, "nom", nom, 60)
        self._text(ligne, "prenoms", prenoms, 120)
        if iso is None:
            add(ligne, "date_naissance", self._date_problem(naissance))
        if examen not in self.examens:
            add(ligne, "examen", f"Examen inconnu : indiquez {', '.join(EXAMENS)}.")
        elif code_spec and (examen, code_spec) not in self.specialites:
            add(ligne, "specialite", f"Spécialité « {code_spec[:12]} » inconnue pour l'examen {examen}.")
        if decision not in DECISION_SET:
            add(ligne, "decision", "Décision invalide : F (favorable), S (favorable sous condition) "
                                   "ou D (défavorable).")
        self._text(ligne, "note", note, 255, required=False)
        return self.rapport.total > before

    def _text(self, ligne: int, colonne: str, value: str, max_len: int, required: bool = True) -> None:
        if required and not value:
            self.rapport.add(ligne, colonne, "Valeur obligatoire manquante.")
        elif len(value) > max_len:
            self.rapport.add(ligne, colonne,
                             f"Valeur trop longue ({len(value)} caractères, {max_len} au plus).")

    def _date(self, raw: str) -> str | None:
        """dd/mm/yyyy -> yyyy-mm-dd, a real and plausible birth date (cached)."""
        naissance = self._parse_date(raw)
        iso = naissance.isoformat() if naissance and probleme_date_naissance(naissance, self.today) is None else None
        self.dates[raw] = iso
        return iso

    @staticmethod
    def _parse_date(raw: str) -> date | None:
        match = DATE_RE.fullmatch(raw)
        if match is None:
            return None
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None

    def _date_problem(self, raw: str) -> str:
        """Why a birth date is refused: its format, or the date itself."""
        naissance = self._parse_date(raw)
        if naissance is None:
            return "Date invalide : format jj/mm/aaaa (ex. 17/05/2008)."
        return probleme_date_naissance(naissance, self.today) or "Date de naissance invalide."


# --- staging ------------------------------------------------------------------------------


def stage(rows: Iterable[tuple]) -> int:
    """(Re)create the staging table and stream ``rows`` into it; returns the row count."""
    connection = db.session.connection()
    STAGE.drop(connection, checkfirst=True)
    STAGE.create(connection)
    counted = _Counter(rows)
    if connection.dialect.name == "postgresql":
        _bulk_stage_postgresql(connection, counted)
    else:
        _bulk_stage_sqlite(connection, counted)
    connection.exec_driver_sql(f"CREATE INDEX ix_eleves_import_cle ON {STAGE.name} (ine, examen_id)")
    # A temporary table is never analysed automatically: without statistics the planner
    # would join 100,000 staged rows as if they were a handful.
    connection.exec_driver_sql(f"ANALYZE {STAGE.name}")
    return counted.count


def drop_stage() -> None:
    STAGE.drop(db.session.connection(), checkfirst=True)


class _Counter:
    def __init__(self, rows: Iterable[tuple]):
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[tuple]:
        for row in self.rows:
            self.count += 1
            yield row


def _bulk_stage_postgresql(connection: Connection, rows: Iterable[tuple]) -> None:
    """COPY through psycopg 3, inside the load's transaction."""
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {STAGE.name} ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _bulk_stage_sqlite(connection: Connection, rows: Iterable[tuple]) -> None:
    """Plain tuples through the sqlite3 cursor, in batches (no SQLAlchemy per row)."""
    sql = (f"INSERT INTO {STAGE.name} ({', '.join(STAGE_COLUMNS)}) "  # nosec B608 - constant names, bound values
           f"VALUES ({', '.join('?' for _ in STAGE_COLUMNS)})")
    driver = connection.connection.driver_connection
    iterator = iter(rows)
    while batch := list(islice(iterator, SQLITE_BATCH)):
        driver.executemany(sql, batch)


def report_duplicates(rapport: Rapport) -> int:
    """A pupil (INE, exam) twice in the file: every later line is an error, and leaves
    the staging table so that the counts of the preview stay those of distinct pupils."""
    first = (select(STAGE.c.ine, STAGE.c.examen_id, func.min(STAGE.c.ligne).label("premiere"))
             .group_by(STAGE.c.ine, STAGE.c.examen_id).having(func.count() > 1).subquery())
    rows = db.session.connection().execute(
        select(STAGE.c.ligne, first.c.premiere)
        .join(first, and_(STAGE.c.ine == first.c.ine, STAGE.c.examen_id == first.c.examen_id))
        .where(STAGE.c.ligne > first.c.premiere).order_by(STAGE.c.ligne)).all()
    for ligne, premiere in rows:
        rapport.add(ligne, "", f"Doublon : même INE et même examen qu'à la ligne {premiere}.")
    lignes = [ligne for ligne, _premiere in rows]
    for start in range(0, len(lignes), SQLITE_BATCH):
        batch = lignes[start:start + SQLITE_BATCH]
        db.session.connection().execute(STAGE.delete().where(STAGE.c.ligne.in_(batch)))
    return len(lignes)


# --- comparing with the current base --------------------------------------------------------


@dataclass
class Cible:
    """The base a file replaces: one establishment in one session."""

    session_id: int
    etablissement_id: int

    def base(self) -> ColumnElement[bool]:
        return and_(Eleve.session_id == self.session_id, Eleve.etablissement_id == self.etablissement_id)

    def known(self) -> ColumnElement[bool]:
        """The pupil of the current base with the staged line's INE and exam."""
        return and_(self.base(), Eleve.ine == STAGE.c.ine, Eleve.examen_id == STAGE.c.examen_id)

    def changed(self) -> ColumnElement[bool]:
        """A known pupil whose values differ from the staged line, or who was purged."""
        differs = [Eleve.specialite_id.is_distinct_from(STAGE.c.specialite_id)]
        differs += [getattr(Eleve, champ) != STAGE.c[champ] for champ in COMPARES if champ != "specialite_id"]
        return and_(self.known(), or_(not_(Eleve.present), *differs))

    def purged(self) -> ColumnElement[bool]:
        """A present pupil of the base the file no longer lists."""
        return and_(self.base(), Eleve.present.is_(True), ~exists().where(
            STAGE.c.ine == Eleve.ine, STAGE.c.examen_id == Eleve.examen_id))

    def new(self):
        """Staged lines of pupils the base does not know."""
        return ~exists().where(self.known())


def summarise(cible: Cible) -> dict[str, Any]:
    """The preview's counts and samples, computed by the database."""
    connection = db.session.connection()
    crees = connection.scalar(select(func.count()).select_from(STAGE).where(cible.new()))
    modifies = connection.scalar(select(func.count()).select_from(STAGE).join(Eleve, cible.changed()))
    supprimes = connection.scalar(select(func.count(Eleve.id)).where(cible.purged()))
    hors_base = connection.scalar(select(func.count(Inscription.id)).where(
        Inscription.eleve_id.in_(select(Eleve.id).where(cible.purged()))))
    return {"crees": crees, "modifies": modifies, "supprimes": supprimes, "hors_base": hors_base,
            "exemples": _samples(connection, cible)}


def _samples(connection: Connection, cible: Cible) -> dict[str, list[dict]]:
    examens = {examen_id: code for code, examen_id in _examen_codes(connection)}
    crees = connection.execute(select(STAGE).where(cible.new()).order_by(STAGE.c.ligne).limit(SAMPLE))
    modifies = connection.execute(
        select(STAGE, *(getattr(Eleve, c).label(f"avant_{c}") for c in CHAMPS[:7]))
        .join(Eleve, cible.changed()).order_by(STAGE.c.ligne).limit(SAMPLE))
    purges = connection.execute(select(Eleve.ine, Eleve.nom, Eleve.prenoms).where(cible.purged())
                                .order_by(Eleve.id).limit(SAMPLE))
    return {
        "cree": [{"libelle": _libelle(r, examens), "changements": []} for r in crees],
        "modifie": [{"libelle": _libelle(r, examens), "changements": _changes(r)} for r in modifies],
        "purge": [{"libelle": f"{r.ine} - {r.nom} {r.prenoms}", "changements": []} for r in purges],
    }


def _examen_codes(connection: Connection):
    return connection.execute(select(Examen.code, Examen.id)).all()


def _libelle(row, examens: dict[int, str]) -> str:
    return f"{row.ine} - {row.nom} {row.prenoms} ({examens.get(row.examen_id, '?')})"


def _changes(row) -> list[str]:
    apres = {**{c: getattr(row, c) for c in COMPARES}, "present": True}
    return [c for c in CHAMPS[:7] if _comparable(getattr(row, f"avant_{c}")) != _comparable(apres[c])]


def _comparable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- writing --------------------------------------------------------------------------------


class Ecriture:
    """The writes of one load, each one statement; undo traces first, then the change."""

    def __init__(self, cible: Cible, echange_id: int, heartbeat: Callable[[], None]):
        self.cible, self.echange_id, self.heartbeat = cible, echange_id, heartbeat
        self.connection = db.session.connection()
        self.dialect = self.connection.dialect.name
        self.now = utcnow()

    def run(self) -> dict[str, int]:
        counts = {"cree": self.create()}
        self.heartbeat()
        self.flag_registrations(select(Eleve.id).join(STAGE, self.cible.known()).where(not_(Eleve.present)),
                                hors_base=False)
        counts["hors_base"] = self.flag_registrations(select(Eleve.id).where(self.cible.purged()),
                                                      hors_base=True)
        counts["modifie"] = self.update()
        self.heartbeat()
        counts["purge"] = self.purge()
        return counts

    def create(self) -> int:
        columns = ("session_id", "etablissement_id", "ine", "examen_id", "nom", "prenoms", "cle_tri",
                   "date_naissance", "specialite_id", "decision", "note", "present", "echange_id", "updated_at")
        source = select(literal(self.cible.session_id), literal(self.cible.etablissement_id), STAGE.c.ine,
                        STAGE.c.examen_id, STAGE.c.nom, STAGE.c.prenoms, STAGE.c.cle_tri, STAGE.c.date_naissance,
                        STAGE.c.specialite_id, STAGE.c.decision, STAGE.c.note, true(),
                        literal(self.echange_id), literal(self.now, Eleve.updated_at.type)
                        ).where(self.cible.new())
        created = self.connection.execute(insert(Eleve).from_select(columns, source),
                                          execution_options={"preserve_rowcount": True}).rowcount
        self.trace("Eleve", "cree", select(Eleve.id, null()).where(self.cible.base(),
                                                                   Eleve.echange_id == self.echange_id))
        return created

    def update(self) -> int:
        self.trace("Eleve", "modifie", select(Eleve.id, self.snapshot()).join(STAGE, self.cible.changed()))
        values = {champ: STAGE.c[champ] for champ in COMPARES}
        values["cle_tri"] = STAGE.c.cle_tri
        return self.connection.execute(
            update(Eleve).where(self.cible.changed())
            .values(**values, present=True, echange_id=self.echange_id, updated_at=self.now)).rowcount

    def purge(self) -> int:
        self.trace("Eleve", "purge", select(Eleve.id, self.snapshot()).where(self.cible.purged()))
        return self.connection.execute(
            update(Eleve).where(self.cible.purged())
            .values(present=False, echange_id=self.echange_id, updated_at=self.now)).rowcount

    def flag_registrations(self, eleve_ids, *, hors_base: bool) -> int:
        """Registrations of pupils who leave the base are flagged, of those back unflagged."""
        which = and_(Inscription.eleve_id.in_(eleve_ids), Inscription.hors_base.is_(not hors_base))
        self.trace("Inscription", "modifie",
                   select(Inscription.id, self.json_object(("hors_base", false() if hors_base else true())))
                   .where(which))
        return self.connection.execute(update(Inscription).where(which).values(hors_base=hors_base)).rowcount

    def trace(self, objet: str, action: str, rows) -> None:
        """``rows`` selects (object id, previous values as JSON or NULL)."""
        ids, avant = rows.selected_columns
        source = rows.with_only_columns(literal(self.echange_id), literal(objet), ids, literal(action), avant)
        self.connection.execute(insert(EchangeTrace).from_select(
            ("echange_id", "objet", "objet_id", "action", "avant"), source))

    def snapshot(self) -> ColumnElement:
        """The pupil's current values as the JSON object ``cancel`` restores."""
        return self.json_object(*((champ, getattr(Eleve, champ)) for champ in CHAMPS))

    def json_object(self, *pairs: tuple[str, Any]) -> ColumnElement:
        arguments = []
        for key, value in pairs:
            if self.dialect == "sqlite" and _is_boolean(value):
                # SQLite keeps booleans as 0/1: say true/false in the JSON.
                value = func.json(case((value, "true"), else_="false"))
            arguments += [literal_column(f"'{key}'"), value]
        if self.dialect == "postgresql":
            return func.json_build_object(*arguments)
        return func.json_object(*arguments)


def _is_boolean(value: Any) -> bool:
    from sqlalchemy import Boolean

    return isinstance(getattr(value, "type", None), Boolean)
