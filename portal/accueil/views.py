"""Home page, legal pages and the health check."""
from flask import render_template
from sqlalchemy import text

from ..access import allow
from ..extensions import db
from . import bp


@bp.get("/")
@allow("tous")
def index():
    return render_template("accueil/index.html")


@bp.get("/accessibilite")
@allow("tous")
def accessibilite():
    return render_template("accueil/accessibilite.html")


@bp.get("/mentions-legales")
@allow("tous")
def mentions_legales():
    return render_template("accueil/mentions_legales.html")


@bp.get("/sante")
@allow("tous")
def sante():
    db.session.execute(text("SELECT 1"))
    return {"etat": "ok"}
