"""Command-line tools of the manager service, for cron jobs.

``flask import etablissements|specialites|eleves FILE``: loads, with the same two phases
as the web pages. Exit codes: 0 success, 1 the file was refused (errors listed),
2 usage error, unknown establishment or session, lock held by someone else or a load
already running.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..models import Etablissement
from ..services import ServiceError, chargements, verrou
from ..services.campagne import current_session
from .cli_dechargements import export_group, recompute_statuses

ACTEUR = "ligne de commande"
MAX_ERREURS_AFFICHEES = 20


class Refus(click.ClickException):
    """Exit code 2: the command cannot run (lock held, unknown establishment...)."""

    exit_code = 2


@click.group("import")
def import_group() -> None:
    """Chargements : établissements, catalogue des spécialités, bases élèves."""


def _options(command):
    command = click.option("--dry-run", is_flag=True, help="Affiche l'aperçu sans rien écrire.")(command)
    command = click.argument("fichier", type=click.Path(exists=True, dir_okay=False, path_type=Path))(command)
    return command


@import_group.command("etablissements")
@_options
@with_appcontext
def import_etablissements(fichier: Path, dry_run: bool) -> None:
    """Charge les établissements (code UAI, nom, type, commune, spécialités, CCF)."""
    _load("etablissements", fichier, dry_run)


@import_group.command("specialites")
@_options
@with_appcontext
def import_specialites(fichier: Path, dry_run: bool) -> None:
    """Charge le catalogue des spécialités."""
    _load("specialites", fichier, dry_run)


@import_group.command("eleves")
@click.option("--etablissement", "code", required=True, help="Code UAI de l'établissement.")
@_options
@with_appcontext
def import_eleves(fichier: Path, dry_run: bool, code: str) -> None:
    """Charge la base élèves d'un établissement (purge et réimportation)."""
    _load("eleves", fichier, dry_run, code=code)


def _targets(type_: str, code: str | None):
    session_examen = current_session()
    if type_ != "eleves":
        return session_examen, None
    if session_examen is None:
        raise Refus("Aucune session courante : créez et initialisez la session avant de charger "
                    "une base élèves.")
    etab = db.session.scalar(select(Etablissement).where(Etablissement.code == code.strip().upper()))
    if etab is None:
        raise Refus(f"Établissement inconnu : {code}.")
    return session_examen, etab


def _load(type_: str, fichier: Path, dry_run: bool, code: str | None = None) -> None:
    session_examen, etab = _targets(type_, code)
    with open(fichier, "rb") as fh:
        meta = chargements.create_preview(type_, fh, fichier.name, session_examen=session_examen,
                                          etablissement=etab, gestionnaire_id=None, acteur=ACTEUR)
    db.session.commit()
    apercu = meta["apercu"]
    try:
        if apercu["nb_erreurs"]:
            _print_errors(apercu)
            sys.exit(1)
        click.echo(f"Aperçu : {apercu['lignes_valides']} ligne(s), {apercu['crees']} création(s), "
                   f"{apercu['modifies']} modification(s), {apercu['supprimes']} retrait(s).")
        if dry_run:
            click.echo("Aucune écriture (--dry-run).")
            return
        try:
            verrou.acquire(acteur=ACTEUR, gestionnaire_id=None,
                           motif=f"chargement {type_} en ligne de commande")
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            raise Refus(exc.message) from exc
        try:
            echange = _run(meta, fichier)
        finally:
            verrou.release(acteur=ACTEUR)
            db.session.commit()
        click.echo(f"Chargement n° {echange.id} réussi : {echange.message}")
    finally:
        chargements.discard_preview(meta["jeton"])


def _run(meta, fichier: Path):
    with click.progressbar(length=fichier.stat().st_size, label="Chargement", file=sys.stderr) as bar:
        position = {"n": 0}

        def progress(done: int) -> None:
            bar.update(max(done - position["n"], 0))
            position["n"] = max(done, position["n"])

        try:
            echange = chargements.run(meta, acteur=ACTEUR, gestionnaire_id=None, progress=progress)
        except chargements.ChargementRefuse as exc:
            _print_errors(exc.apercu)
            sys.exit(1)
        except ServiceError as exc:
            raise Refus(exc.message) from exc
        bar.update(max(fichier.stat().st_size - position["n"], 0))
    return echange


def _print_errors(apercu: dict) -> None:
    total = apercu["nb_erreurs"]
    click.echo(f"Fichier refusé : {total} erreur{'s' if total > 1 else ''}, rien n'a été chargé.", err=True)
    for erreur in apercu["erreurs"][:MAX_ERREURS_AFFICHEES]:
        colonne = f", colonne {erreur['colonne']}" if erreur["colonne"] else ""
        click.echo(f"  Ligne {erreur['ligne']}{colonne} : {erreur['message']}", err=True)
    if total > MAX_ERREURS_AFFICHEES:
        click.echo(f"  ... et {total - MAX_ERREURS_AFFICHEES} autre(s) erreur(s) : voir le rapport de "
                   "l'échange dans l'espace gestionnaire.", err=True)


# Every command of the manager service; each area adds its own here (the unload and
# catalogue commands live in ``cli_dechargements``).
COMMANDS = [import_group, export_group, recompute_statuses]
