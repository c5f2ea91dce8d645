"""The forms of the registration steps, shared by the two services (in school and public).

Each step of the flow is one form. Choices that depend on the context (statuses,
specialties, forms of passage) are given by the view when it builds the form; the
service checks them again at the final submission. Lengths equal the model columns.
"""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, RadioField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Optional, Regexp, ValidationError

from .models import LIBELLES
from .services import passwords
from .services.identite import probleme_date_naissance
from .champs import (
    CODE_POSTAL_FR_RE,
    INE_RE,
    OUI_NON,
    RADIO,
    REQUIRED,
    TELEPHONE_RE,
    TEXTE,
    DateInput,
    EmailInput,
    TelInput,
    adresse,
    libelle,
    lieu,
    longueur_max,
    nom,
    require,
    strip,
    upper,
)

# Every step a registration may go through, in order: the one definition of the flow. A step
# with nothing to ask (the form of passage, for most specialties) is passed over, but keeps
# its number, so that "Étape x sur y" says the same total on every page of a registration.
TITRES_ETAPES = {
    "identite": "Identité",
    "contact": "Coordonnées",
    "specialite": "Examen et spécialité",
    "forme": "Forme de passage",
    "recapitulatif": "Récapitulatif",
}
ETAPES = tuple(TITRES_ETAPES)


class StepForm(FlaskForm):
    """A step whose values go into the draft kept in the session."""

    def values(self) -> dict[str, str]:
        """The cleaned values as strings, ready to be posted again at the final check."""
        return {f.name: as_text(f.data) for f in self if f.name != "csrf_token"}


def as_text(value) -> str:
    """A value as the draft keeps it (a date in ISO 8601)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class IdentiteForm(StepForm):
    nom_naissance = nom("nom_naissance")
    nom_usage = nom("nom_usage", required=False)
    prenom1 = nom("prenom1")
    prenom2 = nom("prenom2", required=False)
    prenom3 = nom("prenom3", required=False)
    sexe = RadioField(libelle("sexe"), choices=[SelectChoice(v, label) for v, label in LIBELLES["sexe"].items()],
                      validators=[InputRequired("Indiquez le sexe.")],
                      validate_choice=False, option_widget=RADIO)
    date_naissance = DateField(libelle("date_naissance"), format=["%Y-%m-%d", "%d/%m/%Y"], widget=DateInput(),
                               invalid_value_message="Saisissez une date valide au format jj/mm/aaaa.",
                               validators=[InputRequired("Saisissez la date de naissance.")])
    commune_naissance = lieu("commune_naissance")
    pays_naissance = lieu("pays_naissance", default="France")
    nationalite = lieu("nationalite", default="Française")
    ine = StringField(libelle("ine"), filters=[strip, upper], widget=TEXTE,
                      validators=[Optional(), Regexp(INE_RE, message=(
                          "L'INE compte 11 caractères : 9 chiffres, puis un chiffre ou une lettre, puis une "
                          "lettre (par exemple 123456789AB)."))])
    statut = RadioField(libelle("statut"), validators=[InputRequired("Indiquez votre statut.")], validate_choice=False,
                        option_widget=RADIO)

    def __init__(self, *args, statuts=(), libelles=None, ine_requis: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.ine_requis = ine_requis
        if ine_requis:
            require(self.ine, "Saisissez votre INE : il figure sur vos documents de scolarité.")
        self.statut.choices = [SelectChoice(s, (libelles or {}).get(s, s)) for s in statuts]

    def validate_sexe(self, field):
        if field.data not in ("F", "M"):
            raise ValidationError("Indiquez le sexe.")

    def validate_statut(self, field):
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError("Choisissez un statut dans la liste.")

    def validate_date_naissance(self, field):
        if field.data is None:
            return
        if (probleme := probleme_date_naissance(field.data)) is not None:
            raise ValidationError(probleme)


class ContactForm(StepForm):
    email = EmailField(libelle("email"), filters=[strip], widget=EmailInput(), validators=[
        Optional(), longueur_max("email"),
        Email(message="Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")])
    telephone = TelField(libelle("telephone"), filters=[strip], widget=TelInput(), validators=[
        Optional(), longueur_max("telephone"),
        Regexp(TELEPHONE_RE, message="Saisissez un numéro français (06 12 34 56 78) ou international "
                                     "(+33 6 12 34 56 78).")])
    adresse1 = adresse("adresse1", required=False)
    adresse2 = adresse("adresse2", required=False)
    code_postal = StringField(libelle("code_postal"), filters=[strip], widget=TEXTE, validators=[
        Optional(), longueur_max("code_postal"),
        Regexp(r"^[0-9A-Za-z -]+$", message="Code postal invalide.")])
    commune = lieu("commune", required=False)
    pays = lieu("pays", default="France")

    def __init__(self, *args, adresse_requise: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.adresse_requise = adresse_requise
        if adresse_requise:
            require(self.email, "Saisissez votre adresse électronique.")
            require(self.adresse1, "Saisissez votre adresse postale.")
            require(self.commune, "Saisissez la commune.")

    def validate_code_postal(self, field):
        en_france = (self.pays.data or "").strip().lower() == "france"
        if en_france and field.data and not CODE_POSTAL_FR_RE.match(field.data):
            raise ValidationError("En France, le code postal compte 5 chiffres.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        en_france = (self.pays.data or "").strip().lower() == "france"
        if self.adresse_requise and en_france and not self.code_postal.data:
            self.code_postal.errors = list(self.code_postal.errors) + [
                "Saisissez le code postal (5 chiffres), ou indiquez le pays pour une adresse à l'étranger."]
            return False
        return valid


class SpecialiteForm(StepForm):
    specialite = SelectField("Examen et spécialité", validate_choice=False,
                             validators=[InputRequired("Choisissez une spécialité.")])

    def __init__(self, *args, specialites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.specialite.choices = [SelectChoice("", "Sélectionner une spécialité")] + [
            SelectChoice(str(s.id), f"{s.examen.code} – {s.code} – {s.libelle}") for s in specialites]

    def validate_specialite(self, field):
        if field.data not in {c.value for c in field.choices if c.value}:
            raise ValidationError("Choisissez une spécialité dans la liste.")


class FormeForm(StepForm):
    forme = RadioField("Forme de passage", validate_choice=False, option_widget=RADIO)
    section_europeenne = RadioField("Suivez-vous un enseignement en section européenne ?", choices=OUI_NON,
                                    validate_choice=False, option_widget=RADIO)

    def __init__(self, *args, formes=(), libelles=None, europe: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.forme.choices = [SelectChoice(f, (libelles or {}).get(f, f)) for f in formes]
        self.europe = europe
        if len(formes) <= 1:
            del self.forme

    def validate_forme(self, field):
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError("Choisissez une forme de passage.")

    def validate_section_europeenne(self, field):
        if self.europe and field.data not in ("oui", "non"):
            raise ValidationError("Répondez par oui ou par non.")
        if not self.europe and field.data:
            # A forged answer: the question is not asked for this registration.
            raise ValidationError("La question de la section européenne ne concerne pas cette inscription.")

    def choix_values(self) -> dict:
        forme = self.forme.data if "forme" in self else None
        europe = {"oui": True, "non": False}.get(self.section_europeenne.data) if self.europe else None
        return {"forme": forme, "section_europeenne": europe}


class SecretForm(FlaskForm):
    secret = PasswordField("Code secret", validators=[DataRequired(REQUIRED)])
    secret_confirmation = PasswordField("Confirmation du code secret", validators=[DataRequired(REQUIRED)])

    def validate_secret(self, field):
        problem = passwords.password_problem(field.data or "", estimate=False)
        if problem:
            raise ValidationError(problem.replace("Le mot de passe", "Le code secret"))

    def validate_secret_confirmation(self, field):
        if field.data != self.secret.data:
            raise ValidationError("Les deux saisies du code secret sont différentes.")
