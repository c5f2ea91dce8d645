"""WTForms fields drawn for the DSFR, and the fields of the candidate record.

The input widgets render what WTForms renders (same attributes, same order and escaping)
with plain strings; the field factories (``nom``, ``lieu``, ``adresse``) take their label
and maximum length from the candidate record's declaration (``portal/dossier.py``).
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape
from wtforms import StringField
from wtforms import widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets.core import clean_key

from . import dossier


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


def require(field, message: str) -> None:
    """Make an optional field required on this form instance only."""
    field.validators = [DataRequired(message), *(v for v in field.validators if not isinstance(v, Optional))]
    field.flags.required = True
