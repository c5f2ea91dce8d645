"""Unloads (déchargements) of registrations to the downstream exam-organisation system.

The cursor is the session's change sequence: every creation, modification,
cancellation or reactivation gives the registration the next ``seq`` of its session,
allocated under a row lock in the writing transaction, so values are in commit order
and every value up to ``SessionExamen.dernier_changement`` is committed and visible.
"Changes since cursor c" are the registrations with ``seq > c``, in their current state
(cancellations included, with their status).

Incremental CSV unloads start after the highest ``curseur_fin`` of the successful
(acknowledged) incremental ``export_csv`` exchanges of the session and stop at the
``dernier_changement`` read when they start: each change is exported exactly once, and a
change made during an unload goes to the next one. Cancelling such an exchange in the
exchange log makes its range part of the next incremental unload again.

A full unload carries every registration up to ``dernier_changement``; its exchange is
recorded with ``curseur_debut`` NULL ("from the beginning"), which is how it is told
apart from incremental ones: it never moves the incremental cursor. Past files are not
stored: the same content is obtained again by re-running over the cursor range.

The CSV is produced by the database (cells formatted and formulas neutralised in SQL:
``COPY ... TO STDOUT`` on PostgreSQL, a DB-API cursor on SQLite) and sent in chunks of
about 64 KB, hashed on the way. Over HTTP the exchange is recorded ``en_cours`` before
the first byte and ends ``succes`` (with the SHA-256 of what was sent) after the last
one, or ``echec`` if the download stops before: its range then goes to the next unload.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    Select,
    String,
    bindparam,
    case,
    false,
    func,
    literal_column,
    select,
    update,
)

from .. import dossier
from ..csvutil import FORMULA_START
from ..extensions import db
from ..models import (
    Candidat,
    Echange,
    Etablissement,
    Examen,
    Gestionnaire,
    Inscription,
    SessionExamen,
    Specialite,
    utcnow,
)
from . import audit

CHUNK_BYTES = 64 * 1024  # bytes sent at a time by streamed unloads
FETCH_ROWS = 100  # rows read at a time on SQLite (a few hundred bytes each)

# (CSV header, selected column): one line per registration, in seq order.
COLONNES: tuple[tuple[str, Any], ...] = (
    ("numero", Inscription.numero),
    ("version", Inscription.version),
    ("statut", Inscription.statut),
    ("seq", Inscription.seq),
    ("source", Inscription.source),
    ("etablissement", Etablissement.code),
    ("examen", Examen.code),
    ("specialite", Specialite.code),
    ("forme", Inscription.forme),
    # The downstream file keeps a yes/no answer: "non" when the question was not asked.
    ("section_europeenne", func.coalesce(Inscription.section_europeenne, false())),
    # The candidate record, in the order of its declaration (portal/dossier.py).
    *((c.colonne_csv, getattr(Candidat, c.nom)) for c in dossier.CHAMPS),
    ("cree_le_utc", Inscription.created_at),
    ("modifie_le_utc", Inscription.updated_at),
    ("annulee_le_utc", Inscription.annulee_at),
)
ENTETE = tuple(name for name, _ in COLONNES)


@dataclass(frozen=True)
class Lot:
    """A range of changes to unload: ``debut < seq <= fin``; ``complet`` for a full unload."""

    session: SessionExamen
    debut: int
    fin: int
    complet: bool = False

    @property
    def fichier_nom(self) -> str:
        kind = "complet" if self.complet else f"{self.debut + 1}-{self.fin}"
        return f"inscriptions-{self.session.annee}-{kind}.csv"


@dataclass(frozen=True)
class Fichier:
    """What was written: line count, SHA-256 and size in bytes."""

    nb_lignes: int
    sha256: str
    taille: int


def incremental_cursor(session: SessionExamen) -> int:
    """End of the last acknowledged incremental CSV unload (0 when there is none)."""
    found = db.session.scalar(
        select(func.max(Echange.curseur_fin)).where(
            Echange.session_id == session.id,
            Echange.type == "export_csv",
            Echange.etat == "succes",
            Echange.curseur_debut.is_not(None),
        )
    )
    return found or 0


def current_change(session: SessionExamen) -> int:
    """The session's last allocated change number, read fresh from the database."""
    return db.session.scalar(
        select(SessionExamen.dernier_changement).where(SessionExamen.id == session.id)
    ) or 0


def plan_export(session: SessionExamen, *, complet: bool = False) -> Lot:
    fin = current_change(session)
    if complet:
        return Lot(session, 0, fin, complet=True)
    return Lot(session, min(incremental_cursor(session), fin), fin)


def changes_select(session_id: int, debut: int, fin: int | None = None) -> Select:
    """The export columns of the registrations changed in ``(debut, fin]``, by seq."""
    query = (
        select(*(column for _, column in COLONNES))
        .select_from(Inscription)
        .join(Candidat, Candidat.id == Inscription.candidat_id)
        .join(Examen, Examen.id == Inscription.examen_id)
        .join(Specialite, Specialite.id == Inscription.specialite_id)
        .outerjoin(Etablissement, Etablissement.id == Inscription.etablissement_id)
        .where(Inscription.session_id == session_id, Inscription.seq > debut)
        .order_by(Inscription.seq)
    )
    if fin is not None:
        query = query.where(Inscription.seq <= fin)
    return query


def count_changes(lot: Lot) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Inscription).where(
            Inscription.session_id == lot.session.id, Inscription.seq > lot.debut, Inscription.seq <= lot.fin)
    ) or 0


def _cell(column: Any, dialect: str) -> Any:
    """The SQL of one CSV cell, as the spreadsheet must show it: booleans "oui"/"non",
    dates ISO, times to the second, text starting like a formula after an apostrophe."""
    postgres = dialect == "postgresql"
    if isinstance(column.type, Boolean):
        return case((column.is_(True), "oui"), (column.is_(False), "non"))
    if isinstance(column.type, DateTime):
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" text.
        return func.to_char(column, "YYYY-MM-DD HH24:MI:SS") if postgres else func.substr(column, 1, 19)
    if isinstance(column.type, Date):
        return func.to_char(column, "YYYY-MM-DD") if postgres else column
    if isinstance(column.type, String):
        if postgres:
            # COPY quotes empty strings ("" is not NULL there): both give an empty cell.
            text = func.nullif(column, "")
            formula = func.strpos(_FORMULES, func.substr(text, 1, 1)) > 0
        else:
            text = column
            formula = func.substr(text, 1, 1).in_(_SQLITE_FORMULA_STARTS)
        return case((formula, _APOSTROPHE + text), else_=text)
    return column


# Columns whose values a CHECK constraint fixes (never a formula, never empty): as they are.
_ENUMERATIONS = {"statut", "source", "forme", "sexe", "statut_candidat"}

# PostgreSQL gets the characters as a parameter (COPY's parameters are merged into the
# text by psycopg, which reads "%" as a placeholder); SQLite as SQL literals (cheaper).
_FORMULES = bindparam("formules", "".join(FORMULA_START))
_SQLITE_FORMULA_STARTS = [literal_column(f"'{c}'" if c.isprintable() else f"char({ord(c)})")
                          for c in FORMULA_START]
_APOSTROPHE = literal_column("''''", String)  # the SQL string literal of one apostrophe


def csv_select(session_id: Any, debut: Any, fin: Any, dialect: str) -> Select:
    """``changes_select`` with every cell already formatted for the CSV by the database."""
    cells = [(column if name in _ENUMERATIONS else _cell(column, dialect)).label(name)
             for name, column in COLONNES]
    return changes_select(session_id, debut, fin).with_only_columns(*cells, maintain_column_froms=False)


@lru_cache(maxsize=4)
def _csv_sql(dialect: Dialect) -> tuple[str, dict[str, Any], tuple[str, ...] | None]:
    """The unload's SQL for ``dialect``, compiled once: (text, fixed parameters, positional
    order of the parameters or None when they are named)."""
    query = csv_select(bindparam("session_id"), bindparam("debut"), bindparam("fin"), dialect.name)
    compiled = query.compile(dialect=dialect)
    fixed = {k: v for k, v in compiled.params.items() if k not in ("session_id", "debut", "fin")}
    return str(compiled), fixed, tuple(compiled.positiontup) if compiled.positional else None


def _header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(ENTETE)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def iter_csv(lot: Lot) -> Iterator[tuple[bytes, int]]:
    """The unload as CSV (';', CRLF, UTF-8 BOM, formulas neutralised): ``(chunk, rows in it)``
    pairs of about CHUNK_BYTES, BOM and header first.

    The parameters are read at the call (call it before committing: reading the lot's
    session later would open a transaction of the ORM session); rows are read while
    iterating, on a DB-API connection of their own, in one statement (one consistent
    snapshot) that holds no write lock: ``COPY (...) TO STDOUT`` on PostgreSQL, a cursor
    read with ``fetchmany`` on SQLite."""
    engine = db.engine
    sql, fixed, order = _csv_sql(engine.dialect)
    params = {**fixed, "session_id": lot.session.id, "debut": lot.debut, "fin": lot.fin}
    if order is None:
        return _copy_chunks(engine, sql, params)
    return _cursor_chunks(engine, sql, [params[name] for name in order])


def _copy_chunks(engine: Any, sql: str, params: dict[str, Any]) -> Iterator[tuple[bytes, int]]:
    yield _header(), 0
    connection = engine.raw_connection()
    try:
        with connection.driver_connection.cursor() as cursor, cursor.copy(
                f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER ';')", params) as copy:
            rows, size = [], 0
            for row in copy:  # PostgreSQL sends one row per block, ending with "\n"
                rows.append(row[:-1])
                size += len(row)
                if size >= CHUNK_BYTES:
                    yield _crlf(rows), len(rows)
                    rows, size = [], 0
            yield _crlf(rows), len(rows)
        connection.rollback()
    finally:
        connection.close()


def _crlf(rows: list[Any]) -> bytes:
    """Rows ended by CRLF like the csv module's (a line break inside a quoted cell stays as it is)."""
    return b"\r\n".join(rows) + b"\r\n" if rows else b""


def _cursor_chunks(engine: Any, sql: str, params: list[Any]) -> Iterator[tuple[bytes, int]]:
    yield _header(), 0
    connection = engine.raw_connection()
    cursor = None
    try:
        cursor = connection.driver_connection.execute(sql, params)
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        count = 0
        while rows := cursor.fetchmany(FETCH_ROWS):
            writer.writerows(rows)
            count += len(rows)
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue().encode("utf-8"), count
                buffer.seek(0)
                buffer.truncate()
                count = 0
        yield buffer.getvalue().encode("utf-8"), count
    finally:
        if cursor is not None:
            cursor.close()
        connection.close()


class Empreinte:
    """Counts and hashes the chunks of a CSV as they are written or sent."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self.nb_lignes = 0
        self.taille = 0

    def add(self, chunk: bytes, lignes: int) -> None:
        self._digest.update(chunk)
        self.taille += len(chunk)
        self.nb_lignes += lignes

    def fichier(self) -> Fichier:
        return Fichier(self.nb_lignes, self._digest.hexdigest(), self.taille)


def write_csv(lot: Lot, out: IO[bytes], progress: Callable[[int], None] | None = None) -> Fichier:
    """Write the unload into a binary file, chunk by chunk, hashing what is written."""
    empreinte = Empreinte()
    for chunk, lignes in iter_csv(lot):
        out.write(chunk)
        empreinte.add(chunk, lignes)
        if progress and lignes:
            progress(lignes)
    return empreinte.fichier()


def _acteur(gestionnaire: Gestionnaire | None) -> str:
    if gestionnaire is not None:
        return gestionnaire.email
    return audit.current_actor().get("label") or "système"


def _message(lot: Lot) -> str:
    if lot.complet:
        return (f"Déchargement complet jusqu'au changement {lot.fin} "
                "(le curseur incrémental n'est pas modifié).")
    return f"Changements {lot.debut + 1} à {lot.fin}."


def start_csv_export(lot: Lot, *, gestionnaire: Gestionnaire | None = None,
                     fichier_nom: str | None = None) -> Echange:
    """The running exchange of a CSV unload, ended by ``finish_csv_export`` or
    ``fail_csv_export``. Only successful exchanges move the incremental cursor."""
    now = utcnow()
    echange = Echange(
        session_id=lot.session.id, type="export_csv", etat="en_cours",
        fichier_nom=fichier_nom or lot.fichier_nom, gestionnaire_id=gestionnaire.id if gestionnaire else None,
        acteur=_acteur(gestionnaire), started_at=now, heartbeat_at=now,
        curseur_debut=None if lot.complet else lot.debut, curseur_fin=lot.fin, message=_message(lot),
    )
    db.session.add(echange)
    db.session.flush()
    return echange


def finish_csv_export(echange: Echange, fichier: Fichier) -> None:
    """The unload was written or sent whole: the exchange succeeds, with its audit event."""
    echange.etat = "succes"
    echange.finished_at = echange.heartbeat_at = utcnow()
    echange.nb_lignes = fichier.nb_lignes
    echange.fichier_sha256, echange.fichier_taille = fichier.sha256, fichier.taille
    db.session.flush()
    audit.record("dechargement.csv", echange, details={
        "complet": echange.curseur_debut is None, "curseur_debut": echange.curseur_debut or 0,
        "curseur_fin": echange.curseur_fin, "nb_lignes": fichier.nb_lignes, "sha256": fichier.sha256})


def fail_csv_export(echange: Echange, message: str, *, lignes: int = 0) -> None:
    """The unload stopped before its end: the exchange fails (its range goes to the next one)."""
    echange.etat = "echec"
    echange.finished_at = echange.heartbeat_at = utcnow()
    echange.nb_lignes = lignes
    echange.message = message[:2000]
    db.session.flush()
    audit.record("dechargement.csv", echange, outcome="echec", details={"message": message[:500]})


def touch_csv_export(echange_id: int) -> None:
    """Tell the exchange log that a long unload is still being sent (committed at once,
    on a connection of its own)."""
    with db.engine.begin() as connection:
        connection.execute(update(Echange).where(Echange.id == echange_id, Echange.etat == "en_cours")
                           .values(heartbeat_at=utcnow()))


def record_csv_export(lot: Lot, fichier: Fichier, *, gestionnaire: Gestionnaire | None = None,
                      fichier_nom: str | None = None) -> Echange:
    """The successful exchange of a CSV unload written at once (command line), with its audit event."""
    echange = start_csv_export(lot, gestionnaire=gestionnaire, fichier_nom=fichier_nom)
    finish_csv_export(echange, fichier)
    return echange


def record_failed_export(lot: Lot, message: str, *, gestionnaire: Gestionnaire | None = None) -> Echange:
    echange = start_csv_export(lot, gestionnaire=gestionnaire)
    fail_csv_export(echange, message)
    return echange


def list_exports(session: SessionExamen, limit: int = 20) -> list[Echange]:
    return list(db.session.scalars(
        select(Echange).where(Echange.session_id == session.id, Echange.type.in_(("export_csv", "export_api")))
        .order_by(Echange.started_at.desc(), Echange.id.desc()).limit(limit)
    ))


# --- JSON API ----------------------------------------------------------------------


def _iso(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "hour"):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def page_since(session: SessionExamen, since: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of changes after ``since``: (inscriptions, next_cursor, has_more)."""
    query = changes_select(session.id, since).add_columns(Specialite.libelle).limit(limit + 1)
    rows = list(db.session.execute(query))
    has_more = len(rows) > limit
    rows = rows[:limit]
    items = [as_json(row) for row in rows]
    next_cursor = items[-1]["seq"] if items else since
    return items, next_cursor, has_more


def as_json(row) -> dict[str, Any]:
    # The row holds the CSV columns (ENTETE), then the specialty label added for the API.
    values = dict(zip(ENTETE, row, strict=False))
    candidat = {c.nom: _iso(values[c.colonne_csv]) if c.format == "date" else values[c.colonne_csv]
                for c in dossier.CHAMPS}
    return {
        "numero": values["numero"],
        "version": values["version"],
        "numero_version": f"{values['numero']}-{values['version']}",
        "statut": values["statut"],
        "seq": values["seq"],
        "source": values["source"],
        "etablissement": values["etablissement"],
        "examen": values["examen"],
        "specialite": values["specialite"],
        "specialite_libelle": row[-1],
        "forme": values["forme"],
        "section_europeenne": bool(values["section_europeenne"]),
        "candidat": candidat,
        "cree_le": _iso(values["cree_le_utc"]),
        "modifie_le": _iso(values["modifie_le_utc"]),
        "annulee_le": _iso(values["annulee_le_utc"]),
    }


def record_api_export(session: SessionExamen, *, since: int, next_cursor: int, count: int, acteur: str) -> Echange:
    """The exchange of one API page that returned data, with its audit event."""
    now = utcnow()
    echange = Echange(session_id=session.id, type="export_api", etat="succes", acteur=acteur[:254],
                      started_at=now, finished_at=now, nb_lignes=count, curseur_debut=since,
                      curseur_fin=next_cursor, message=f"Changements {since + 1} à {next_cursor}.")
    db.session.add(echange)
    db.session.flush()
    audit.record("dechargement.api", echange, details={"curseur_debut": since, "curseur_fin": next_cursor,
                                                       "nb_lignes": count})
    return echange
