"""Who is logged in, and the session rules shared by every service.

Flask-Login users are managers (``Gestionnaire``) and establishments in their tracking
service (``Etablissement``). ``get_id()`` returns a random per-account token, never the
primary key: rotating the token (logout, password change, deactivation) ends every
session that carries the old one, copied cookies included.

A school computer opened for pupils and a public candidate back on their registration
are kept in the session under ``poste`` and ``candidat`` with the same kind of token.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature
from sqlalchemy import select

from .extensions import db
from .models import Etablissement, Gestionnaire, new_token


def load_user(user_id: str):
    kind, _, token = user_id.partition(":")
    if not token:
        return None
    if kind == "g":
        return db.session.scalar(select(Gestionnaire).where(Gestionnaire.session_token == token,
                                                            Gestionnaire.actif.is_(True)))
    if kind == "e":
        return db.session.scalar(select(Etablissement).where(Etablissement.suivi_token == token,
                                                             Etablissement.actif.is_(True)))
    return None


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie session, re-signed at most once a minute instead of on every
    request. The idle timeout counts from the last signature (``max_age``), so a visitor
    still active is logged out after 29 to 30 idle minutes instead of exactly 30; a changed
    session is always sent at once. Signing and compressing the cookie was a tenth of a
    registration page's time."""

    REFRESH_AFTER = timedelta(minutes=1)

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(
                value, max_age=int(app.permanent_session_lifetime.total_seconds()), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        opened = self.session_class(data)
        opened.signed_at = signed_at
        return opened

    def should_set_cookie(self, app, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or datetime.now(timezone.utc) - signed_at >= self.REFRESH_AFTER


def _now_ts() -> float:
    return datetime.now(timezone.utc).timestamp()


def start_session(**values: Any) -> None:
    """A fresh session after a successful authentication (no fixation): the old one,
    CSRF token included, is dropped."""
    session.clear()
    session.permanent = True
    session["login_at"] = _now_ts()
    session.update(values)


def login(user) -> None:
    start_session()
    login_user(user, remember=False)


def logout() -> None:
    logout_user()
    session.clear()


def login_age() -> timedelta | None:
    started = session.get("login_at")
    if started is None:
        return None
    return timedelta(seconds=_now_ts() - float(started))


def rotate_token(user) -> None:
    """End every session of this account (logout, password change, deactivation)."""
    if isinstance(user, Gestionnaire):
        user.session_token = new_token()
    elif isinstance(user, Etablissement):
        user.suivi_token = new_token()


def enforce_absolute_timeout() -> None:
    """Registered as a before_request hook: a session older than the absolute lifetime ends."""
    age = login_age()
    if age is not None and age > current_app.config["SESSION_ABSOLUTE_LIFETIME"]:
        logout_user()
        session.clear()


def is_safe_next(target: str | None) -> bool:
    """Only local paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def pop_next(default: str) -> str:
    target = session.pop("next", None) or request.args.get("next")
    return target if is_safe_next(target) else default


def actor_for_user(user) -> dict[str, Any] | None:
    if isinstance(user, Gestionnaire):
        return {"type": "gestionnaire", "id": user.id, "label": user.email, "role": user.role}
    if isinstance(user, Etablissement):
        return {"type": "etablissement", "id": user.id, "label": user.code, "etablissement_code": user.code}
    return None


def set_actor() -> None:
    """before_request: the actor the audit trail records, from the logged-in user."""
    if current_user.is_authenticated:
        g.actor = actor_for_user(current_user._get_current_object())
