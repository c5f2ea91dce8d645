"""Routes of the public blueprint (being built)."""
from flask import abort

from ..access import allow
from . import bp


@bp.get("/")
@allow("tous")
def index():
    abort(404)


@bp.route("/connexion", methods=("GET", "POST"))
@allow("tous")
def login():
    abort(404)


@bp.route("/verifier", methods=("GET", "POST"))
@allow("tous")
def verify():
    abort(404)
