"""Pupil bases: one read of the file, staged, compared and written by the database
(``base_eleves.py``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO


from ...models import (
    Echange,
)
from .. import echanges
from . import base_eleves
from ..csvimport import CsvReader, FichierInvalide
from .contexte import COLONNES, ChargementRefuse, Contexte, Rapport, apercu


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


def analyse_eleves(ctx: Contexte, path: Path,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    rapport = Rapport()
    lignes = _stage_eleves(ctx, path, rapport, progress, cles=False)
    counts = base_eleves.summarise(_cible(ctx)) if not rapport.total else {}
    base_eleves.drop_stage()
    return apercu("eleves", lignes, rapport, **counts)


def apply_eleves(ctx: Contexte, echange: Echange, path: Path,
                  progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """The file is read (and checked) once, then written by a few set-based statements."""
    rapport = Rapport()
    lignes = _stage_eleves(ctx, path, rapport, progress)
    if rapport.total:
        raise ChargementRefuse(apercu("eleves", lignes, rapport))
    echanges.heartbeat(echange.id)
    counts = base_eleves.Ecriture(_cible(ctx), echange.id, lambda: echanges.heartbeat(echange.id)).run()
    base_eleves.drop_stage()
    return {"lignes": lignes, **counts}


def _cible(ctx: Contexte) -> base_eleves.Cible:
    return base_eleves.Cible(ctx.session_examen.id, ctx.etablissement.id)
