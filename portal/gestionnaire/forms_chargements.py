"""Forms of the loads (chargements)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

TYPES = [
    SelectChoice("", "Sélectionner une option"),
    SelectChoice("specialites", "Catalogue des spécialités"),
    SelectChoice("etablissements", "Établissements"),
    SelectChoice("eleves", "Base élèves d'un établissement"),
]


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class ChargementForm(FlaskForm):
    type = SelectField("Fichier à charger", choices=TYPES,
                       validators=[InputRequired("Choisissez le type de fichier.")])
    etablissement = StringField("Code UAI de l'établissement", filters=[_upper],
                                validators=[Length(max=8, message="Le code UAI compte 8 caractères.")])
    fichier = FileField("Fichier CSV", validators=[FileRequired("Choisissez un fichier CSV à déposer.")])

    def validate_type(self, field) -> None:
        if field.data not in {c.value for c in TYPES if c.value}:
            raise ValidationError("Choisissez le type de fichier.")

    def validate_etablissement(self, field) -> None:
        if self.type.data == "eleves" and not field.data:
            raise ValidationError("Indiquez le code UAI de l'établissement dont c'est la base élèves.")
