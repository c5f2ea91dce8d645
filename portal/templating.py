"""Jinja filters and globals shared by pages and PDFs."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, url_for

from . import formatting, ui
from .models import LIBELLES, libelle

# The service each part of the portal is, named in every page title
# ("Tableau de bord – Gestionnaire – Préinscription examens professionnels"); the
# portal's own pages (home, accessibility, legal notice) name none.
SERVICES = {
    "gestionnaire": "Gestionnaire",
    "etablissement": "Établissement",
    "inscription": "Inscription en établissement",
    "public": "Candidat individuel",
}


def current_service() -> str | None:
    """The service (blueprint) of the current request; for an address that matched no route,
    the service its first path segment names (``/gestionnaire/nope`` is the manager's)."""
    if not has_request_context():
        return None
    if request.blueprint:
        return request.blueprint if request.blueprint in SERVICES else None
    first = request.path.strip("/").split("/", 1)[0]
    return first if first in SERVICES else None


def service_name() -> str:
    """The name of the current service for the page title, "" on the portal's own pages."""
    return SERVICES.get(current_service() or "", "")


def oui_non(value) -> str:
    if value is None:
        return "Non renseigné"
    return "Oui" if value else "Non"


def fixed_url(endpoint: str, **values) -> str:
    """``url_for`` of a URL that depends on nothing but its arguments (static files, the
    footer's pages): built once per application and root path, not on every page."""
    if not has_request_context():
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *sorted(values.items()))
    built = current_app.extensions.setdefault("portal.fixed_urls", {})
    url = built.get(key)
    if url is None:
        url = built[key] = url_for(endpoint, **values)
    return url


def register_templating(app: Flask) -> None:
    app.jinja_env.filters.update(
        date_fr=formatting.format_date,
        datetime_fr=formatting.format_datetime,
        date_longue=formatting.format_long_date,
        nombre=formatting.format_number,
        libelle=libelle,
        oui_non=oui_non,
        adresse=formatting.format_adresse,
        session_fr=formatting.format_session,
    )
    app.jinja_env.globals.update(libelles=LIBELLES, ui_input=ui.input, ui_radios=ui.radios, ui_messages=ui.messages,
                           ui_error_summary=ui.error_summary, ui_stepper=ui.stepper,
                           fixed_url=fixed_url, service_name=service_name)
