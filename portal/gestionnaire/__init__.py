"""Rectorate managers: campaign, loads and unloads, catalogue, follow-up."""
from flask import Blueprint

bp = Blueprint("gestionnaire", __name__)
