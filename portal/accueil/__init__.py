"""Home page and legal pages."""
from flask import Blueprint

bp = Blueprint("accueil", __name__)
