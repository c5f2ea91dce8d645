"""Forms of the public registration service (the steps are in ``portal.etapes``)."""
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from ..champs import strip
from ..etapes import SecretForm

__all__ = ["CandidatLoginForm", "ConfirmForm", "SecretForm", "VerificationForm"]


class CandidatLoginForm(FlaskForm):
    numero = StringField("Numéro d'inscription", filters=[strip], validators=[
        DataRequired("Saisissez votre numéro d'inscription."),
        Regexp(r"^\d{1,9}(-\d{1,4})?$", message="Le numéro se présente ainsi : 123 ou 123-0.")])
    date_naissance = DateField("Date de naissance", format=["%Y-%m-%d", "%d/%m/%Y"],
                               invalid_value_message="Saisissez une date valide au format jj/mm/aaaa.",
                               validators=[InputRequired("Saisissez votre date de naissance.")])
    secret = PasswordField("Code secret", validators=[DataRequired("Saisissez votre code secret."), Length(max=256)])

    @property
    def numero_value(self) -> int:
        return int(self.numero.data.split("-")[0])


class ConfirmForm(FlaskForm):
    """The modification review's "Enregistrer" button (CSRF only)."""


class VerificationForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form: it changes nothing

    code = StringField("Code de vérification", filters=[strip], validators=[
        DataRequired("Saisissez le code imprimé sur la confirmation."),
        Length(max=20, message="Le code compte 12 caractères (tirets facultatifs).")])
