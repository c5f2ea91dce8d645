"""Pupils registering from a school computer."""
from flask import Blueprint

bp = Blueprint("inscription", __name__)
