"""School heads: tracking their establishment's registrations."""
from flask import Blueprint

bp = Blueprint("etablissement", __name__)
