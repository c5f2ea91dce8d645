"""Token-protected JSON API of the downstream exam-organisation system (GET only).

``/api/v1/inscriptions?since=<cursor>&limit=<n>`` pages through the changes of the
current session in commit order (see ``services.exports``); the client keeps
``next_cursor`` and sends it back as ``since`` until ``has_more`` is false.
"""
from __future__ import annotations

from flask import Response, current_app, g, jsonify, request

from ..access import allow, hash_api_token
from ..database import writes_on_get
from ..errors import render_error
from ..extensions import db, limiter
from ..formatting import plain_integer
from ..services import campagne, exports
from . import bp
from .openapi import LIMIT_DEFAULT, LIMIT_MAX, RATE_PER_MINUTE, openapi_document


def _bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, None when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _rate_key() -> str:
    """One counter per token presented (its hash, never the token), else per address."""
    token = _bearer_token()
    if token is not None:
        return "token:" + hash_api_token(token)
    return "ip:" + (request.remote_addr or "inconnu")


# Checked before the token itself (Flask-Limiter's own before_request runs first), so
# attempts with wrong tokens count as well; the 429 body and Retry-After come from errors.py.
limiter.shared_limit(f"{RATE_PER_MINUTE} per minute", scope="api", key_func=_rate_key)(bp)


@bp.after_request
def _bearer_challenge(response: Response) -> Response:
    """RFC 6750 section 3: a 401 names the scheme and realm, and says when the token was wrong."""
    if response.status_code == 401:
        challenge = 'Bearer realm="portal"'
        if _bearer_token() is not None:
            challenge += ', error="invalid_token", error_description="Jeton inconnu ou révoqué."'
        response.headers["WWW-Authenticate"] = challenge
    return response


def _int_param(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """A query parameter that must be an integer in range; ValueError with a French message."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    value = plain_integer(raw, 12)
    if value is None:
        raise ValueError(f"Le paramètre « {name} » doit être un nombre entier positif ou nul.")
    if maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"Le paramètre « {name} » doit être compris entre {minimum} et {maximum}.")
    return value


@bp.route("/inscriptions")
@allow("api")
@writes_on_get
def list_inscriptions():
    try:
        since = _int_param("since", 0, 0)
        limit = _int_param("limit", LIMIT_DEFAULT, 1, LIMIT_MAX)
    except ValueError as exc:
        return render_error(400, str(exc))
    session_examen = campagne.current_session()
    if session_examen is None:
        return render_error(404, "Aucune session d'examen n'est en cours.")
    items, next_cursor, has_more = exports.page_since(session_examen, since, limit)
    if items:
        exports.record_api_export(session_examen, since=since, next_cursor=next_cursor, count=len(items),
                                  acteur=f"jeton {g.api_token.prefixe} ({g.api_token.nom})")
    db.session.commit()
    return jsonify(inscriptions=items, next_cursor=next_cursor, has_more=has_more)


@bp.route("/openapi.json")
@allow("tous")
def openapi():
    return jsonify(openapi_document(server_url=request.host_url.rstrip("/") + "/api/v1",
                                    version=current_app.config.get("API_VERSION", "1.0.0")))
