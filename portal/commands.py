"""Command-line entry points (``flask --app wsgi <command>``)."""
from __future__ import annotations

from importlib import import_module

import click
from flask import Flask
from flask.cli import with_appcontext

from .extensions import db
from .services import ServiceError, audit, gestionnaires

# Modules each exposing ``COMMANDS``, a list of click commands.
COMMAND_MODULES = ("portal.demo", "portal.gestionnaire.cli")


@click.command("create-gestionnaire")
@click.argument("email")
@click.option("--nom", required=True, help="Nom affiché du gestionnaire.")
@click.option("--role", type=click.Choice(["admin", "gestionnaire"]), default="gestionnaire", show_default=True)
@click.password_option("--mot-de-passe", help="Mot de passe initial (à changer à la première connexion).")
@with_appcontext
def create_gestionnaire(email: str, nom: str, role: str, mot_de_passe: str) -> None:
    """Crée un compte gestionnaire (rectorat)."""
    try:
        compte = gestionnaires.create_gestionnaire(email=email, nom=nom, role=role, password=mot_de_passe,
                                                   must_change=True)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    audit.record("gestionnaire.cree", compte, actor={"type": "systeme", "id": None, "label": "ligne de commande"},
                 details={"email": email, "role": role})
    db.session.commit()
    click.echo(f"Compte {role} créé : {email} (mot de passe à changer à la première connexion).")


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_gestionnaire)
    for name in COMMAND_MODULES:
        module = import_module(name)
        for command in module.COMMANDS:
            app.cli.add_command(command)
