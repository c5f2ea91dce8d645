"""Individual candidates registering outside any school."""
from flask import Blueprint

bp = Blueprint("public", __name__)
