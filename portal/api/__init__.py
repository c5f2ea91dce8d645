"""Token-protected JSON API for the downstream exam-organisation system."""
from flask import Blueprint

bp = Blueprint("api", __name__)
