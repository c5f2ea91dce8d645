"""DSFR form fields built in Python: ``ui.input`` and ``ui.radios`` of ``_macros.html``.

A registration step shows a dozen fields; as nested Jinja macros (group, label, hint,
control, messages) they took a third of the page's time. These functions write the same
markup with plain strings: every value that comes from a field, a label, a hint or an
attribute goes through ``escape`` (nothing is marked safe unescaped), and the control itself
is still the field's WTForms widget.
"""
from __future__ import annotations

from markupsafe import Markup, escape


def _label_text(field, optional: bool) -> str:
    return f"{escape(field.label.text)}{' (facultatif)' if optional else ''}"


def _hint(hint) -> str:
    return f'\n      <span class="fr-hint-text">{escape(hint)}</span>' if hint else ""


def messages(field) -> Markup:
    """The messages group the control's aria-describedby points to; the first error's id is
    ``<id>-desc-error``, the next ones ``-2``, ``-3``..."""
    field_id = escape(field.id)
    errors = "".join(
        f'\n    <p class="fr-message fr-message--error" id="{field_id}-desc-error{"" if n == 1 else f"-{n}"}">'
        f"{escape(error)}</p>"
        for n, error in enumerate(field.errors, 1))
    return Markup(f'<div class="fr-messages-group" id="{field_id}-messages" aria-live="polite">{errors}\n  </div>')


def input(field, hint=None, autocomplete=None, type=None, optional=False, **attributes) -> Markup:  # noqa: A001
    """Text-like input (StringField, EmailField, DateField...): extra keyword arguments are
    HTML attributes of the control (maxlength=8, inputmode="numeric"...)."""
    if autocomplete:
        attributes["autocomplete"] = autocomplete
    if type:
        attributes["type"] = type
    attributes["aria-describedby"] = f"{field.id}-messages"
    if field.errors:
        attributes["aria-invalid"] = "true"
    field_id = escape(field.id)
    return Markup(
        f'<div class="fr-input-group{" fr-input-group--error" if field.errors else ""}" id="{field_id}-groupe">\n'
        f'    <label class="fr-label" for="{field_id}">\n      {_label_text(field, optional)}{_hint(hint)}\n'
        f'    </label>\n    {field(class_="fr-input", **attributes)}\n    {messages(field)}\n  </div>')


def radios(field, legend=None, hint=None, inline=False, optional=False) -> Markup:
    """Radio buttons in a fieldset whose legend is the field's label (or ``legend``); each
    option's input id is ``<id>-<n>`` (WTForms)."""
    field_id = escape(field.id)
    title = f"{escape(legend)}{' (facultatif)' if optional else ''}" if legend else _label_text(field, optional)
    element = "fr-fieldset__element fr-fieldset__element--inline" if inline else "fr-fieldset__element"
    options = "".join(
        f'\n    <div class="{element}">\n      <div class="fr-radio-group">\n        {option()}\n'
        f'        <label class="fr-label" for="{escape(option.id)}">{escape(option.label.text)}</label>\n'
        f"      </div>\n    </div>"
        for option in field)
    return Markup(
        f'<fieldset class="fr-fieldset{" fr-fieldset--error" if field.errors else ""}" id="{field_id}" role="group"\n'
        f'            aria-labelledby="{field_id}-legend {field_id}-messages">\n'
        f'    <legend class="fr-fieldset__legend--regular fr-fieldset__legend" id="{field_id}-legend">\n'
        f"      {title}{_hint(hint)}\n    </legend>{options}\n    {messages(field)}\n  </fieldset>")
