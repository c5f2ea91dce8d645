"""Routes of the inscription blueprint (being built)."""
from flask import abort

from ..access import allow
from . import bp


@bp.route("/", methods=("GET", "POST"))
@allow("tous")
def login():
    abort(404)
