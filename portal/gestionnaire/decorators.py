"""Guards of the manager views."""
from __future__ import annotations

from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for

from .. import auth


def _return_target() -> str:
    """Where to come back after re-authenticating: the page itself for a GET, the page
    the form was on for a POST (a POST is never replayed)."""
    if request.method == "GET":
        return request.full_path if request.query_string else request.path
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and auth.is_safe_next(referrer.path):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("gestionnaire.index")


def recent_login_required(view: Callable) -> Callable:
    """Sensitive action: the password must have been typed less than FRESH_LOGIN_MAX_AGE ago."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        age = auth.login_age()
        if age is None or age > current_app.config["FRESH_LOGIN_MAX_AGE"]:
            target = _return_target()
            session["next"] = target if auth.is_safe_next(target) else url_for("gestionnaire.index")
            flash("Pour cette action, confirmez votre mot de passe.", "info")
            return redirect(url_for("gestionnaire.reauthenticate"))
        return view(*args, **kwargs)

    return wrapper
