"""One error page for every status, a friendly expired-form page, and a 500 that rolls
back and shows an incident reference instead of a trace."""
from __future__ import annotations

import time
import uuid

from flask import Flask, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db, limiter
from .services import DatabaseLocked
from .services.throttle import QuotaExceeded
from .templating import current_service

TITLES = {
    400: ("Requête invalide", "La requête n'a pas pu être traitée. Vérifiez les informations saisies."),
    401: ("Authentification requise", "Cette adresse demande un jeton d'accès valide."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "La page demandée n'existe pas ou n'est plus disponible."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible de cette manière."),
    413: ("Fichier trop volumineux", "Le fichier ou le formulaire envoyé dépasse la taille autorisée."),
    429: ("Trop de demandes", "Trop de demandes ont été reçues. Patientez quelques minutes avant de réessayer."),
    500: ("Erreur interne", "Une erreur inattendue s'est produite. Nos équipes ont été prévenues."),
    503: ("Service momentanément indisponible", "Le service est momentanément indisponible."),
}


# The way back from an error page: the home of the service the page belongs to
# (service = blueprint), else the portal's home page.
HOMES = {
    "gestionnaire": ("gestionnaire.index", "Retour au tableau de bord"),
    "etablissement": ("etablissement.index", "Retour au tableau de bord"),
    "inscription": ("inscription.login", "Retour au poste d’inscription"),
    "public": ("public.index", "Retour à l’inscription individuelle"),
}
DEFAULT_HOME = ("accueil.index", "Page d’accueil")


def home() -> tuple[str, str]:
    """(url, label) of the current service's home."""
    endpoint, label = HOMES.get(current_service() or "", DEFAULT_HOME)
    return url_for(endpoint), label


def render_error(code: int, message: str | None = None, **extra):
    title, default = TITLES.get(code, (f"Erreur {code}", "Une erreur s'est produite."))
    title = extra.pop("title_override", None) or title
    if request.path.startswith("/api/"):
        return {"erreur": title, "message": message or default, **{k: v for k, v in extra.items()
                                                                     if k == "incident_id"}}, code
    home_url, home_label = home()
    return render_template("errors/error.html", code=code, title=title, message=message or default,
                           home_url=home_url, home_label=home_label, **extra), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        db.session.rollback()
        # A review form posted again once its registration is saved: the registration, not an
        # expired form (see parcours.resumes_after_csrf_error).
        after = getattr(app.view_functions.get(request.endpoint or ""), "after_csrf_error", None)
        answer = after() if after is not None and request.method == "POST" else None
        if answer is not None:
            return answer
        return render_error(400, "Le formulaire a expiré ou n'est plus valide. Rechargez la page "
                                 "et saisissez à nouveau vos informations.")

    @app.errorhandler(DatabaseLocked)
    def locked(exc: DatabaseLocked):
        # exc holds the lock's facts as plain values: they survive the rollback.
        db.session.rollback()
        body, code = render_error(503, exc.message, title_override="Base momentanément verrouillée")
        return body, code, {"Retry-After": "300"}

    @app.errorhandler(QuotaExceeded)
    def quota_exceeded(exc: QuotaExceeded):
        """An address past its quota of public registrations or drafts: nothing of this
        request is written; the answers typed so far stay in the draft."""
        db.session.rollback()
        seconds = int(exc.wait.total_seconds())
        return (render_template("errors/quota.html", title=TITLES[429][0], message=exc.message), 429,
                {"Retry-After": str(max(1, seconds))})

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded):
        db.session.rollback()
        current = limiter.current_limit
        wait = max(1, int(current.reset_at - time.time())) if current is not None else 60
        message = None
        if request.path.startswith("/api/"):
            unite = "seconde" if wait == 1 else "secondes"
            item = exc.limit.limit
            message = (f"Trop de requêtes : au plus {item.amount} par {item.GRANULARITY.name} "
                       f"pour un même jeton (ou une même adresse sans jeton). Réessayez dans {wait} {unite}.")
        body, code = render_error(429, message)
        return body, code, {"Retry-After": str(wait)}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code >= 400:
            db.session.rollback()
            return render_error(exc.code, None)
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        incident = uuid.uuid4().hex[:12]
        app.logger.exception("incident %s on %s %s", incident, request.method, request.path)
        return render_error(500, incident_id=incident)
