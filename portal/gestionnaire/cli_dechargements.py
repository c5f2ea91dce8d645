"""Command-line unloads and the nightly catalogue computation, for cron.

    flask export inscriptions [--full] [--output FILE] [--session ANNEE]
    flask recompute-statuses [--session ANNEE] [--sans-publication]

Exit codes: 0 done, 1 refused or failed (message on stderr), 2 bad usage (click).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..extensions import db
from ..models import STATUTS_PUBLICATION, SessionExamen, Specialite, libelle
from ..services import campagne, catalogue, exports


def _session(annee: int | None) -> SessionExamen:
    if annee is None:
        found = campagne.current_session()
        if found is None:
            raise click.ClickException("Aucune session d'examen n'est en cours (précisez --session ANNEE).")
        return found
    found = db.session.scalar(select(SessionExamen).where(SessionExamen.annee == annee))
    if found is None:
        raise click.ClickException(f"Aucune session d'examen pour l'année {annee}.")
    return found


@click.group("export")
def export_group() -> None:
    """Déchargements vers le système aval d'organisation des examens."""


@export_group.command("inscriptions")
@click.option("--full", "complet", is_flag=True,
              help="Toutes les inscriptions (sans déplacer le curseur des déchargements incrémentaux).")
@click.option("--output", "sortie", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Fichier CSV à écrire (par défaut : inscriptions-<année>-<changements>.csv).")
@click.option("--session", "annee", type=int, help="Année de la session (par défaut : la session en cours).")
@with_appcontext
def export_inscriptions(complet: bool, sortie: Path | None, annee: int | None) -> None:
    """Écrit les inscriptions changées depuis le dernier déchargement incrémental réussi."""
    session_examen = _session(annee)
    lot = exports.plan_export(session_examen, complet=complet)
    sortie = sortie or Path(lot.fichier_nom)
    partiel = sortie.with_name(sortie.name + ".partiel")
    total = exports.count_changes(lot)
    try:
        with open(partiel, "wb") as out, click.progressbar(length=total, label="Déchargement",
                                                           file=sys.stderr) as barre:
            fichier = exports.write_csv(lot, out, progress=barre.update)
        os.replace(partiel, sortie)
    except OSError as exc:
        db.session.rollback()
        partiel.unlink(missing_ok=True)
        exports.record_failed_export(lot, f"Écriture impossible : {exc.strerror or exc}")
        db.session.commit()
        raise click.ClickException(f"Écriture de {sortie} impossible : {exc.strerror or exc}") from exc
    exports.record_csv_export(lot, fichier, fichier_nom=sortie.name)
    db.session.commit()
    portee = "complet" if complet else f"changements {lot.debut + 1} à {lot.fin}"
    click.echo(f"{fichier.nb_lignes} inscription(s) écrite(s) dans {sortie} ({portee}).")
    click.echo(f"SHA-256 : {fichier.sha256}")


@click.command("recompute-statuses")
@click.option("--session", "annee", type=int, help="Année de la session (par défaut : la session en cours).")
@click.option("--sans-publication", is_flag=True,
              help="Ne pas publier les spécialités prêtes pour publication.")
@with_appcontext
def recompute_statuses(annee: int | None, sans_publication: bool) -> None:
    """Recalcule les statuts de publication du catalogue (traitement de nuit)."""
    session_examen = _session(annee)
    total = db.session.scalar(select(func.count()).select_from(Specialite)) or 0
    with click.progressbar(length=total, label="Calcul des statuts", file=sys.stderr) as barre:
        resultat = catalogue.recompute_statuses(session_examen, publier=not sans_publication, progress=barre.update)
    db.session.commit()
    click.echo(f"Session {session_examen.annee} : {sum(resultat.par_statut.values())} spécialité(s).")
    for statut in STATUTS_PUBLICATION:
        click.echo(f"  {libelle(statut, 'statut_publication')} : {resultat.par_statut[statut]}")
    click.echo(f"{len(resultat.changements)} changement(s) de statut.")
    for code, ancien, nouveau in resultat.changements:
        avant = libelle(ancien, "statut_publication") if ancien else "aucun"
        click.echo(f"  {code} : {avant} -> {libelle(nouveau, 'statut_publication')}")

