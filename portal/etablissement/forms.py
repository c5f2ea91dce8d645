"""Forms of the tracking service."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from ..formatting import plain_integer


class LoginForm(FlaskForm):
    code = StringField("Code de l'établissement", validators=[
        DataRequired("Saisissez le code de l'établissement."), Length(max=8, message="Le code compte 8 caractères.")])
    password = PasswordField("Mot de passe du suivi", validators=[
        InputRequired("Saisissez le mot de passe."), Length(max=256)])


class _NewPasswordForm(FlaskForm):
    new_password = PasswordField("Nouveau mot de passe", validators=[
        InputRequired("Saisissez le nouveau mot de passe."), Length(max=256)])
    confirmation = PasswordField("Confirmation du nouveau mot de passe", validators=[
        InputRequired("Saisissez à nouveau le nouveau mot de passe."),
        EqualTo("new_password", message="Les deux mots de passe saisis sont différents.")])


class ChangePasswordForm(_NewPasswordForm):
    current_password = PasswordField("Mot de passe actuel", validators=[
        InputRequired("Saisissez le mot de passe actuel."), Length(max=256)])


class InscriptionPasswordForm(_NewPasswordForm):
    """The password pupils' computers are opened with; the head's tracking password confirms it."""

    current_password = PasswordField("Mot de passe actuel du service de suivi", validators=[
        InputRequired("Saisissez le mot de passe actuel du service de suivi."), Length(max=256)])


class SectionEuropeenneForm(FlaskForm):
    reponse = RadioField("Gérez-vous des sections européennes ?",
                         choices=[SelectChoice("oui", "Oui"), SelectChoice("non", "Non")],
                         validators=[InputRequired("Indiquez si vous gérez des sections européennes.")])

    @property
    def answer(self) -> bool:
        return self.reponse.data == "oui"


class ChoixSpecialiteForm(FlaskForm):
    """A GET form choosing one of the establishment's specialties (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    specialite = SelectField("Spécialité", coerce=int, validate_choice=False)

    def set_specialites(self, specialites,
                        empty: str = "Sélectionner une spécialité") -> "ChoixSpecialiteForm":
        """The specialties grouped by exam (one <optgroup> each, named by the exam's label),
        in the exam's order, then in French alphabetical order of the label (keys stored with
        the rows); ``empty`` is the first, ungrouped choice (value 0)."""
        grouped = sorted(specialites, key=lambda s: (s.examen.ordre, s.examen.code, s.cle_tri, s.id))
        self.specialite.choices = [SelectChoice(0, empty)] + [
            SelectChoice(s.id, f"{s.code} · {s.libelle}", optgroup=f"{s.examen.code} – {s.examen.libelle}")
            for s in grouped]
        return self


class ActionForm(FlaskForm):
    """A POST button with its CSRF token and nothing else (open/close the service, logout)."""


def parse_ids(values: list[str]) -> list[int]:
    """Ids posted by the validation page; ValueError when one is not a positive integer."""
    ids = [plain_integer(v) for v in values]
    if any(i is None or i <= 0 for i in ids):
        raise ValueError("invalid id")
    return ids
