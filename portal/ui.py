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
        f'\n    <p class="fr-message fr-message--error" '
        f'id="{field_id}-desc-error{"" if n == 1 else f"-{n}"}">{escape(error)}</p>'
        for n, error in enumerate(field.errors, 1))
    return Markup(  # nosec B704 - the id and every error are escaped above
        f'<div class="fr-messages-group" id="{field_id}-messages" aria-live="polite">{errors}\n  </div>')


def input(field, hint=None, autocomplete=None, type=None, optional=False,  # noqa: A001
          **attributes) -> Markup:
    """Text-like input (StringField, EmailField, DateField...): extra keyword arguments are
    HTML attributes of the control (maxlength=8, inputmode="numeric"...)."""
    return _input(field, hint, autocomplete, type, optional, attributes)


def _input(field, hint, autocomplete, type, optional, attributes) -> Markup:  # noqa: A002
    if autocomplete:
        attributes["autocomplete"] = autocomplete
    if type:
        attributes["type"] = type
    attributes["aria-describedby"] = f"{field.id}-messages"
    if field.errors:
        attributes["aria-invalid"] = "true"
    field_id = escape(field.id)
    group = "fr-input-group fr-input-group--error" if field.errors else "fr-input-group"
    return Markup(  # nosec B704 - label, hint and id escaped; control and messages are escaped Markup
        f'<div class="{group}" id="{field_id}-groupe">\n'
        f'    <label class="fr-label" for="{field_id}">\n      {_label_text(field, optional)}{_hint(hint)}\n'
        f'    </label>\n    {field(class_="fr-input", **attributes)}\n    {messages(field)}\n  </div>')


def radios(field, legend=None, hint=None, inline=False, optional=False) -> Markup:
    """Radio buttons in a fieldset whose legend is the field's label (or ``legend``); each
    option's input id is ``<id>-<n>`` (WTForms)."""
    return _radios(field, legend, hint, inline, optional)


def _radios(field, legend, hint, inline, optional) -> Markup:
    field_id = escape(field.id)
    if legend:
        title = f"{escape(legend)}{' (facultatif)' if optional else ''}"
    else:
        title = _label_text(field, optional)
    element = "fr-fieldset__element fr-fieldset__element--inline" if inline else "fr-fieldset__element"
    options = "".join(
        f'\n    <div class="{element}">\n      <div class="fr-radio-group">\n        {option()}\n'
        f'        <label class="fr-label" for="{escape(option.id)}">{escape(option.label.text)}</label>\n'
        f"      </div>\n    </div>"
        for option in field)
    fieldset = "fr-fieldset fr-fieldset--error" if field.errors else "fr-fieldset"
    return Markup(  # nosec B704 - legend, hint, ids and option labels escaped; controls are WTForms Markup
        f'<fieldset class="{fieldset}" id="{field_id}" role="group"\n'
        f'            aria-labelledby="{field_id}-legend {field_id}-messages">\n'
        f'    <legend class="fr-fieldset__legend--regular fr-fieldset__legend" id="{field_id}-legend">\n'
        f"      {title}{_hint(hint)}\n    </legend>{options}\n    {messages(field)}\n  </fieldset>")


def error_summary(form, title=None) -> Markup:
    """The summary at the top of a form with errors: "Le formulaire contient N erreur(s)",
    one link per field in error (to its control; a radio group's first option), then
    the errors of the hidden fields (CSRF) and of the form itself as plain items.
    Empty when there is no error (most pages: no loop in a template for nothing)."""
    count, linked, plain = 0, [], []
    for field in form:
        errors = field.errors
        if errors and not isinstance(errors, dict):
            count += len(errors)
            if field.type in ("CSRFTokenField", "HiddenField"):
                plain.extend(errors)
            else:
                linked.append(field)
    form_errors = getattr(form, "form_errors", None)
    if form_errors:
        count += len(form_errors)
        plain.extend(form_errors)
    if not count:
        return Markup("")
    heading = escape(title) if title else f"Le formulaire contient {count} erreur{'s' if count > 1 else ''}"
    items = [f"\n      <li>{escape(message)}</li>" for message in plain]
    for field in linked:
        target = escape(field.id if field.type != "RadioField" else f"{field.id}-0")
        label = escape(field.label.text)
        items.extend(f'\n      <li><a href="#{target}">{label} : {escape(error)}</a></li>' for error in field.errors)
    return Markup(  # nosec B704 - title, messages, ids and labels escaped above
        '<div class="fr-alert fr-alert--error fr-mb-4w" id="resume-erreurs" tabindex="-1" role="alert" '
        'aria-labelledby="resume-erreurs-titre">\n'
        f'    <h2 class="fr-alert__title" id="resume-erreurs-titre">{heading}</h2>\n'
        f'    <ul>{"".join(items)}\n    </ul>\n  </div>')


def stepper(current, total, title, next_title=None) -> Markup:
    """DSFR stepper: "<title> Étape n sur N", then the next step's title when there is one."""
    details = (f'\n    <p class="fr-stepper__details">\n      <span class="fr-text--bold">Étape suivante :</span> '
               f'{escape(next_title)}\n    </p>') if next_title else ""
    return Markup(  # nosec B704 - titles and numbers escaped
        f'<div class="fr-stepper">\n    <h2 class="fr-stepper__title">\n      {escape(title)}\n'
        f'      <span class="fr-stepper__state">Étape {escape(current)} sur {escape(total)}</span>\n    </h2>\n'
        f'    <div class="fr-stepper__steps" data-fr-current-step="{escape(current)}" '
        f'data-fr-steps="{escape(total)}"></div>{details}\n  </div>')
