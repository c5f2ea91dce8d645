"""Routes of the api blueprint (being built)."""
from flask import abort  # noqa: F401

from ..access import allow
from . import bp
