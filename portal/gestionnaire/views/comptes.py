"""Routes of the gestionnaire blueprint (being built)."""
from flask import abort

from ...access import allow
from .. import bp


@bp.route("/connexion", methods=("GET", "POST"))
@allow("tous")
def login():
    abort(404)


@bp.route("/mot-de-passe", methods=("GET", "POST"))
@allow("gestionnaire", "gestionnaire_mdp_initial")
def change_password():
    abort(404)
