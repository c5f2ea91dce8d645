"""Forms of the manager service: accounts, campaign, calendar, follow-up."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError

from ..models import LIBELLES
from ..services.passwords import MAX_LENGTH

REQUIRED = "Ce champ est obligatoire."
DATE_INVALIDE = "Date invalide : utilisez le format JJ/MM/AAAA."
HEURE_INVALIDE = "Date et heure invalides : utilisez le format JJ/MM/AAAA HH:MM."
# Browsers send ISO values for <input type="datetime-local">; a typed French value is accepted too.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _password(label: str) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)])


def _plausible_year(_form, field) -> None:
    # Paris/UTC conversions overflow at the ends of the calendar.
    if field.data is not None and not 1900 <= field.data.year <= 2999:
        raise ValidationError(HEURE_INVALIDE)


def _datetime(label: str) -> DateTimeLocalField:
    return DateTimeLocalField(label, format=DATETIME_FORMATS, validators=[Optional(), _plausible_year],
                              invalid_value_message=HEURE_INVALIDE)


def _date(label: str, *validators) -> DateField:
    return DateField(label, format=DATE_FORMATS, validators=[*validators] or [InputRequired(REQUIRED)],
                     invalid_value_message=DATE_INVALIDE)


class LoginForm(FlaskForm):
    email = StringField("Adresse électronique", validators=[DataRequired(REQUIRED), Length(max=254)])
    password = _password("Mot de passe")


class ReauthForm(FlaskForm):
    password = _password("Mot de passe")


class ChangePasswordForm(FlaskForm):
    current_password = _password("Mot de passe actuel")
    new_password = _password("Nouveau mot de passe")
    confirmation = PasswordField("Confirmation du nouveau mot de passe", validators=[
        DataRequired(REQUIRED), EqualTo("new_password", "Les deux mots de passe ne sont pas identiques.")])


class GestionnaireForm(FlaskForm):
    email = EmailField("Adresse électronique", validators=[DataRequired(REQUIRED), Length(max=254)])
    nom = StringField("Nom et prénom", validators=[DataRequired(REQUIRED), Length(max=120)])
    role = SelectField("Rôle", choices=[SelectChoice(r, LIBELLES["role"][r]) for r in ("gestionnaire", "admin")])
    password = _password("Mot de passe initial")


class ResetPasswordForm(FlaskForm):
    password = _password("Nouveau mot de passe initial")


class SessionForm(FlaskForm):
    annee = IntegerField("Année de la session", validators=[
        InputRequired(REQUIRED), NumberRange(2000, 2100, "Indiquez une année entre 2000 et 2100.")])
    libelle = StringField("Libellé", validators=[DataRequired(REQUIRED), Length(max=120)])
    academie = StringField("Académie", validators=[DataRequired(REQUIRED), Length(max=120)])
    date_examen = _date("Date de référence des examens")
    texte_accueil = TextAreaField("Texte d'accueil des candidats", validators=[Optional(), Length(max=4000)])
    texte_confirmation = TextAreaField("Texte imprimé sur les confirmations",
                                       validators=[Optional(), Length(max=4000)])
    courante = BooleanField("Faire de cette session la session courante")


class OuvertureForm(FlaskForm):
    ouvert = BooleanField("Service ouvert (dans les limites des dates ci-dessous)")
    debut = _datetime("Ouverture le")
    fin = _datetime("Fermeture le")
    fin_tardive = _datetime("Fin de la période tardive")

    def validate_fin(self, field):
        if field.data and self.debut.data and field.data <= self.debut.data:
            raise ValidationError("La fermeture doit être postérieure à l'ouverture.")

    def validate_fin_tardive(self, field):
        if field.data is None:
            return
        if self.fin.data is None:
            raise ValidationError("Une période tardive suppose une date de fermeture.")
        if field.data <= self.fin.data:
            raise ValidationError("La fin de la période tardive doit être postérieure à la fermeture.")


class AutorisationTardiveForm(FlaskForm):
    nom = StringField("Nom de naissance", validators=[DataRequired(REQUIRED), Length(max=60)])
    prenom = StringField("Prénom", validators=[DataRequired(REQUIRED), Length(max=40)])
    date_naissance = _date("Date de naissance")
    examen = SelectField("Examen", validators=[DataRequired(REQUIRED)])
    service = SelectField("Service", choices=[SelectChoice("etablissement", "Inscription en établissement"),
                                              SelectChoice("public", "Inscription grand public")])
    etablissement = StringField("Code de l'établissement", validators=[Optional(), Length(max=8)])
    motif = StringField("Motif", validators=[Optional(), Length(max=255)])


class VerrouForm(FlaskForm):
    motif = StringField("Motif", validators=[Optional(), Length(max=255)])


class LaissezPasserForm(FlaskForm):
    motif = StringField("Motif", validators=[DataRequired(REQUIRED), Length(max=255)])
