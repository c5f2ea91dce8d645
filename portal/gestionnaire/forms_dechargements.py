"""Forms of the unloads area: API tokens, and the catalogue filters."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class ApiTokenForm(FlaskForm):
    nom = StringField("Nom du système ou de l'usage", validators=[
        DataRequired("Indiquez le nom du système qui utilisera ce jeton."),
        Length(max=120, message="120 caractères au plus."),
    ])
