"""Form fields shared by the two registration services (in school and public).

Each step of the flow is one form. Choices that depend on the context (statuses,
specialties, forms of passage) are given by the view when it builds the form; the
service checks them again at the final submission. Lengths equal the model columns.
"""
from __future__ import annotations

import re
from datetime import date

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, session
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import DateField, EmailField, PasswordField, RadioField, SelectField, StringField, TelField
from wtforms import widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets.core import clean_key

from . import dossier
from .extensions import db
from .models import LIBELLES
from .services import DatabaseLocked, ServiceError, brouillons, candidatures, passwords, throttle
from .services.identite import probleme_date_naissance

REQUIRED = "Ce champ est obligatoire."
NOM_RE = r"^(?=.*[A-Za-zÀ-ÖØ-öø-ÿŒœ])[A-Za-zÀ-ÖØ-öø-ÿŒœ'’ -]+$"
NOM_MESSAGE = "Utilisez uniquement des lettres (accents permis), des espaces, des tirets et des apostrophes."
LIEU_RE = r"^[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ'’ .()-]+$"
LIEU_MESSAGE = "Utilisez des lettres, des chiffres, des espaces, des tirets, des points et des apostrophes."
ADRESSE_RE = r"^[^\x00-\x1f<>{}\\]+$"
TELEPHONE_RE = r"^(?:0[1-9](?:[ .-]?\d{2}){4}|\+[1-9][0-9 .-]{6,17}[0-9])$"
INE_RE = r"^\d{9}[0-9A-Z][A-Z]$"
CODE_POSTAL_FR_RE = re.compile(r"^\d{5}$")
OUI_NON = [SelectChoice("oui", "Oui"), SelectChoice("non", "Non")]


# --- rendering ---------------------------------------------------------------------------


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_:.-]*\Z").match
# Attribute names as written (``class_`` -> ``class``, ``aria_x`` -> ``aria-x``), by keyword:
# the keywords come from the code and the templates, a few dozen in all.
_KEYS: dict[str, str] = {}


def _attribute_name(key: str) -> str:
    name = _KEYS.get(key)
    if name is None:
        name = clean_key(key)
        if not _PLAIN_KEY(name):
            name = str(escape(name))
        if len(_KEYS) < 1000:
            _KEYS[key] = name
    return name


def html_params(**kwargs) -> Markup:
    """The attributes WTForms' ``html_params`` writes, in the same order and escaping, built
    with plain strings: its ``Markup.format`` per attribute was most of a step page's
    rendering time. Names made of letters, digits, ``_:.-`` need no escaping; ``escape``
    already turns ``"`` into ``&#34;``."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(_attribute_name(key))
        elif value is not False:
            params.append(f'{_attribute_name(key)}="{escape(value)}"')
    return Markup(" ".join(params))  # nosec B704 - every key and value above is escaped


class _Attributs:
    """WTForms' ``Input`` rendering (same output) without a ``dir()`` of the field's flags
    for every control."""

    html_params = staticmethod(html_params)

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("type", self.input_type)
        if "value" not in kwargs:
            kwargs["value"] = field._value()
        flags = vars(field.flags)
        for name in self.validation_attrs:
            if name in flags and name not in kwargs:
                value = flags[name]
                kwargs[name] = value() if callable(value) else value
        return Markup(f"<input {self.html_params(name=field.name, **kwargs)}>")  # nosec B704 - escaped above


class TextInput(_Attributs, widgets.TextInput):
    pass


class EmailInput(_Attributs, widgets.EmailInput):
    pass


class TelInput(_Attributs, widgets.TelInput):
    pass


class DateInput(_Attributs, widgets.DateInput):
    pass


class RadioInput(_Attributs, widgets.RadioInput):
    def __call__(self, field, **kwargs):
        if field.checked:
            kwargs["checked"] = True
        return super().__call__(field, **kwargs)


TEXTE, RADIO = TextInput(), RadioInput()


def strip(value):
    return re.sub(r"\s+", " ", value).strip() if isinstance(value, str) else value


def upper(value):
    return value.upper() if isinstance(value, str) else value


def libelle(champ: str) -> str:
    """The label of a field of the candidate record (portal/dossier.py)."""
    return dossier.PAR_NOM[champ].libelle


def longueur_max(champ: str) -> Length:
    """At most the length of the model's column, for a field of the candidate record."""
    longueur = dossier.PAR_NOM[champ].longueur
    return Length(max=longueur, message=f"{longueur} caractères au maximum.")


def nom(champ: str, required: bool = True) -> StringField:
    first = DataRequired(REQUIRED) if required else Optional()
    return StringField(libelle(champ), filters=[strip], widget=TEXTE, validators=[
        first, longueur_max(champ), Regexp(NOM_RE, message=NOM_MESSAGE)])


def lieu(champ: str, required: bool = True, default: str | None = None) -> StringField:
    first = DataRequired(REQUIRED) if required else Optional()
    return StringField(libelle(champ), default=default, filters=[strip], widget=TEXTE, validators=[
        first, longueur_max(champ), Regexp(LIEU_RE, message=LIEU_MESSAGE)])


def adresse(champ: str, required: bool = True) -> StringField:
    first = DataRequired(REQUIRED) if required else Optional()
    return StringField(libelle(champ), filters=[strip], widget=TEXTE, validators=[
        first, longueur_max(champ), Regexp(ADRESSE_RE, message="Certains caractères ne sont pas acceptés.")])


def _require(field, message: str) -> None:
    """Make an optional field required on this form instance only."""
    field.validators = [DataRequired(message), *(v for v in field.validators if not isinstance(v, Optional))]
    field.flags.required = True


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
            _require(self.ine, "Saisissez votre INE : il figure sur vos documents de scolarité.")
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
            _require(self.email, "Saisissez votre adresse électronique.")
            _require(self.adresse1, "Saisissez votre adresse postale.")
            _require(self.commune, "Saisissez la commune.")

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


# --- the step-by-step flow shared by both services ------------------------------------

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
INCOMPLET = "Certaines informations manquent ou ne sont plus valables : vérifiez cette étape."


class EtapeIncomplete(Exception):
    def __init__(self, step: str, message: str = INCOMPLET):
        super().__init__(step)
        self.step = step
        self.message = message


@dataclass(frozen=True)
class Enregistrement:
    """What a submission saved. It replaces the draft, whose id stays in the session, so
    that a repeated submission (double click, second tab, Back then submit, a retried
    request), a Back or a reload answer with the same registration and its number."""

    inscription_id: int
    numero_version: str
    # A public candidate's login token (None in school).
    session_token: str | None = None
    # False: a modification that changed nothing.
    modifiee: bool = True
    # True when answering again, not the submission that saved it.
    deja: bool = False

    def as_draft(self) -> dict:
        return {"inscription": self.inscription_id, "numero_version": self.numero_version,
                "token": self.session_token, "modifiee": self.modifiee}

    @classmethod
    def from_draft(cls, data) -> Enregistrement | None:
        if not isinstance(data, dict) or not isinstance(data.get("inscription"), int):
            return None
        return cls(data["inscription"], str(data.get("numero_version", "")), data.get("token"),
                   bool(data.get("modifiee", True)), deja=True)


def attach_error(form, exc: ServiceError) -> None:
    """Show a service refusal next to its field, or on top of the form."""
    if exc.field and exc.field in form:
        form[exc.field].errors = list(form[exc.field].errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


SOUMIS = "soumis"


class Parcours:
    """One registration being entered step by step; its draft (the cleaned strings of each
    step, validated again at the final submission) is kept on the server, its id in the
    session under ``key``."""

    def __init__(self, ctx: candidatures.Contexte, key: str, *, adresse_requise: bool,
                 quota: throttle.Quota | None = None):
        self.ctx = ctx
        self.key = key
        self.adresse_requise = adresse_requise
        # Counts each new draft against the client address (anonymous flow only).
        self.quota = quota
        self._specialites: list | None = None
        self._brouillon: dict | None = None
        self._checked: dict | None = None

    # the draft: on the server, the session only holds its id
    @property
    def brouillon(self) -> dict:
        if self._brouillon is None:
            self._brouillon = brouillons.load(session.get(self.key))
        return self._brouillon

    def save(self, step: str, values: dict[str, str]) -> None:
        draft = dict(self.brouillon)
        if step in ("identite", "specialite") and draft.get(step) != values:
            draft.pop("forme", None)  # its questions depend on the status and the specialty
        draft[step] = values
        self.start(draft)

    def start(self, draft: dict) -> None:
        draft_id = brouillons.save(session.get(self.key), draft)
        if session.get(self.key) != draft_id:  # same draft: the cookie needs no new signature
            if self.quota is not None:  # a new draft: past the quota, QuotaExceeded rolls it back
                self.quota.consume(request.remote_addr or "")
            session[self.key] = draft_id
        self._brouillon, self._checked = draft, None

    def reload(self) -> Parcours:
        """Forget the draft read earlier in this request (another request may have changed it)."""
        self._brouillon, self._checked = None, None
        return self

    # after the submission
    def enregistrement(self) -> Enregistrement | None:
        """What this draft's submission saved, if it was submitted."""
        return Enregistrement.from_draft(self.brouillon.get(SOUMIS))

    def finish(self, saved: Enregistrement) -> None:
        """The draft becomes the record of what was saved (the answers themselves go)."""
        self.start({SOUMIS: saved.as_draft()})

    def answer(self, done: Callable, saved: Enregistrement):
        """``done(saved)``; the draft's id stays in the session even when ``done`` starts a
        new one (a public candidate's login), for Back and reload to find it."""
        draft_id = session.get(self.key)
        response = done(saved)
        if draft_id and session.get(self.key) != draft_id:
            session[self.key] = draft_id
        return response

    # what the steps offer
    @property
    def specialites(self) -> list:
        if self._specialites is None:
            self._specialites = candidatures.specialites_offertes(self.ctx)
        return self._specialites

    def specialite(self):
        wanted = self.brouillon.get("specialite", {}).get("specialite")
        if not wanted:
            return None
        return next((s for s in self.specialites if str(s.id) == wanted), None)

    def statut(self) -> str | None:
        return self.brouillon.get("identite", {}).get("statut")

    def steps(self) -> list[str]:
        steps = ["identite", "contact", "specialite"]
        specialite = self.specialite()
        if specialite is not None and candidatures.forme_demandee(specialite, self.ctx.etablissement, self.statut()):
            steps.append("forme")
        return steps + ["recapitulatif"]

    def next_step(self, step: str) -> str:
        steps = self.steps()
        return steps[min(steps.index(step) + 1, len(steps) - 1)]

    def first_missing(self, step: str) -> str | None:
        steps = self.steps()
        for previous in steps[:steps.index(step)]:
            if previous != "recapitulatif" and previous not in self.brouillon:
                return previous
        return None

    def form(self, step: str, *, draft: bool = False, csrf: bool = True):
        kwargs: dict = {}
        if draft:
            saved = self.brouillon.get(step)
            kwargs["formdata"] = MultiDict(saved) if saved else None
        if not csrf:
            kwargs["meta"] = {"csrf": False}
        if step == "identite":
            return IdentiteForm(statuts=candidatures.statuts_possibles(self.ctx.etablissement),
                                libelles=LIBELLES["statut_candidat"],
                                ine_requis=candidatures.has_base_eleves(self.ctx.session, self.ctx.etablissement),
                                **kwargs)
        if step == "contact":
            return ContactForm(adresse_requise=self.adresse_requise, **kwargs)
        if step == "specialite":
            return SpecialiteForm(specialites=self.specialites, **kwargs)
        specialite = self.specialite()
        return FormeForm(formes=specialite.formes if specialite else (), libelles=LIBELLES["forme"],
                         europe=specialite is not None and candidatures.section_europeenne_demandee(
                             specialite, self.ctx.etablissement, self.statut()), **kwargs)

    # the final checks
    def checked_forms(self) -> dict:
        """Every step's form rebuilt from the draft and validated again (once per request:
        the review page shows them and the submission uses them)."""
        if self._checked is not None:
            return self._checked
        forms = {}
        for step in self.steps()[:-1]:
            form = self.form(step, draft=True, csrf=False)
            if step not in self.brouillon:
                raise EtapeIncomplete(step)
            if not form.validate():
                raise EtapeIncomplete(step, self._raison(step))
            forms[step] = form
        self._checked = forms
        return forms

    def _raison(self, step: str) -> str:
        """Why a step valid when entered is no longer: the chosen specialty's exam closed or
        the specialty left the catalogue meanwhile (the rest of the draft is kept)."""
        wanted = self.brouillon.get("specialite", {}).get("specialite", "")
        if step == "specialite" and wanted.isdigit():
            raison = candidatures.raison_indisponible(self.ctx, int(wanted))
            if raison:
                return f"{raison} Vos autres réponses sont conservées : choisissez une autre spécialité."
        return INCOMPLET

    def candidature(self) -> tuple[dict, candidatures.Choix]:
        forms = self.checked_forms()
        candidat = {**_typed(forms["identite"]), **_typed(forms["contact"])}
        extra = forms["forme"].choix_values() if "forme" in forms else {}
        return candidat, candidatures.Choix(int(forms["specialite"].specialite.data), **extra)

    def identite(self) -> dict:
        form = self.form("identite", draft=True, csrf=False)
        if not form.validate():
            raise EtapeIncomplete("identite")
        return _typed(form)

    def precheck(self, step: str, form) -> None:
        """Rules that can be told early: the specialty against age, calendar and pupil base."""
        if step == "specialite":
            candidatures.precheck_specialite(self.ctx, self.identite(), int(form.specialite.data))

    def recapitulatif(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """(step, title, [(label, shown value)]) of each step, for the review page."""
        sections = []
        for step, form in self.checked_forms().items():
            rows = [(field.label.text, _shown(field)) for field in form
                    if field.name != "csrf_token" and (field.name != "section_europeenne" or form.europe)]
            sections.append((step, TITRES_ETAPES[step], rows))
        return sections


def _typed(form) -> dict:
    return {f.name: f.data for f in form if f.name != "csrf_token"}


def _shown(field) -> str:
    if field.type in ("RadioField", "SelectField"):
        return {c.value: c.label for c in field.choices}.get(field.data, "") or "Non renseigné"
    if isinstance(field.data, date):
        return field.data.strftime("%d/%m/%Y")
    return field.data or "Non renseigné"


def run_review(parcours: Parcours, form, *, step_url: Callable[[str], str], submit: Callable, done: Callable,
               render: Callable):
    """The review page of a registration flow (school computer, public creation and
    modification): every step shown as entered; a valid POST checks every rule again through
    ``submit(candidat, choix)`` (which returns an ``Enregistrement``), keeps what it saved in
    place of the draft, commits and answers ``done(enregistrement)``. A draft already
    submitted answers ``done`` again (``deja``): a second click, a second tab, Back then
    submit, a retried request or a reload get the same registration, never a refusal or an
    empty first step. A refusal rolls back and is shown on the page (``render(sections)``);
    a locked database goes on to its maintenance page."""
    saved = parcours.enregistrement()
    if saved is not None:
        return parcours.answer(done, saved)
    try:
        sections = parcours.recapitulatif()
        candidat, choix = parcours.candidature()
    except EtapeIncomplete as exc:
        flash(exc.message, "warning")
        return redirect(step_url(exc.step))
    if form.validate_on_submit():
        try:
            result = submit(candidat, choix)
        except DatabaseLocked:
            raise
        except ServiceError as exc:
            db.session.rollback()
            # The same draft submitted at the same time by another request, which won.
            saved = parcours.reload().enregistrement()
            if saved is not None:
                return parcours.answer(done, saved)
            attach_error(form, exc)
        else:
            parcours.finish(result)
            db.session.commit()
            return parcours.answer(done, result)
    return render(sections)


def run_step(parcours: Parcours, step: str, *, template: str, step_url: Callable[[str], str], done: Callable,
             **context):
    """GET shows a step prefilled from the draft; POST validates it, saves it, goes on. Once
    the draft is submitted, every step answers ``done`` again (see ``run_review``)."""
    saved = parcours.enregistrement()
    if saved is not None:
        return parcours.answer(done, saved)
    if step not in parcours.steps() or step == "recapitulatif":
        abort(404)
    missing = parcours.first_missing(step)
    if missing:
        return redirect(step_url(missing))
    if request.method == "POST":
        form = parcours.form(step)
        if form.validate():
            try:
                parcours.precheck(step, form)
            except EtapeIncomplete as exc:
                return redirect(step_url(exc.step))
            except ServiceError as exc:
                attach_error(form, exc)
            else:
                parcours.save(step, form.values())
                target = step_url(parcours.next_step(step))  # before the commit expires the rows
                db.session.commit()
                return redirect(target)
    else:
        form = parcours.form(step, draft=True)
    if step == "specialite":
        context["calendrier"] = candidatures.calendrier(parcours.ctx)
    return render_template(template, form=form, **step_context(parcours, step), **context)


def step_context(parcours: Parcours, step: str) -> dict:
    """The stepper's values: the step's number and the total come from ``ETAPES`` (the same
    on every page); the next and previous titles from the steps this registration takes."""
    steps = parcours.steps()
    index = steps.index(step)
    return {"step": step, "steps": steps, "step_number": ETAPES.index(step) + 1, "step_count": len(ETAPES),
            "step_title": TITRES_ETAPES[step],
            "previous_step": steps[index - 1] if index > 0 else None,
            "next_title": TITRES_ETAPES[steps[index + 1]] if index + 1 < len(steps) else None,
            "specialite_choisie": parcours.specialite()}


def resumes_after_csrf_error(resolve: Callable[[], tuple[Parcours, Callable]]):
    """Mark a review view whose form, posted again once the registration is saved, must
    answer with it even though its CSRF token belonged to the session before the login
    (a public candidate's Back then submit): ``resolve()`` gives the flow and its ``done``.
    Nothing is written: the answer only shows what the draft's submission saved."""
    def decorate(view):
        def after_csrf_error():
            parcours, done = resolve()
            saved = parcours.enregistrement()
            return parcours.answer(done, saved) if saved is not None else None

        view.after_csrf_error = after_csrf_error
        return view

    return decorate
