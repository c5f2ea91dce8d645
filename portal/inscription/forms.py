"""Forms of the in-school registration service (the steps are in ``portal.etapes``)."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..champs import strip


class PosteLoginForm(FlaskForm):
    code = StringField("Code de l'établissement", filters=[strip],
                       validators=[DataRequired("Saisissez le code de l'établissement."),
                                   Length(max=8, message="Le code compte 8 caractères.")])
    password = PasswordField("Mot de passe du service d'inscription",
                             validators=[DataRequired("Saisissez le mot de passe."), Length(max=256)])


class ConfirmForm(FlaskForm):
    """The review page's "Confirmer" button (CSRF only)."""
