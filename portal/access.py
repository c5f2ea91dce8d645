"""Access control, declared on every route and enforced in one place.

Each view states which kinds of visitor may use it with ``@allow(...)``. A view without
a declaration is refused to everybody (deny by default) and fails the access-matrix test.

Kinds of visitor:
- ``tous``: anybody, logged in or not;
- ``gestionnaire`` / ``admin``: a rectorate account (admin is also gestionnaire);
  ``gestionnaire_mdp_initial``: one that must still change its initial password;
- ``etablissement``: a school head in the tracking service;
  ``etablissement_mdp_defaut``: one still using the default password (the code);
- ``poste``: a school computer opened for pupils with the registration password;
- ``candidat``: a public candidate back on their own registration;
- ``api``: the downstream system with a valid bearer token.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from . import generation
from .extensions import db
from .models import ApiToken, Etablissement, Gestionnaire, Inscription, utcnow
from .services import audit, postes

KINDS = frozenset({
    "tous", "gestionnaire", "admin", "gestionnaire_mdp_initial", "etablissement",
    "etablissement_mdp_defaut", "poste", "candidat", "api",
})

# Where to send a visitor who lacks a kind the route wants.
LOGIN_ENDPOINTS = {
    "gestionnaire": "gestionnaire.login",
    "admin": "gestionnaire.login",
    "etablissement": "etablissement.login",
    "poste": "inscription.login",
    "candidat": "public.login",
}


def allow(*kinds: str) -> Callable:
    unknown = set(kinds) - KINDS
    if unknown or not kinds:
        raise ValueError(f"unknown access kinds: {unknown}")

    def decorate(view: Callable) -> Callable:
        view.access = frozenset(kinds)
        return view

    return decorate


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_ETABLISSEMENT = select(Etablissement.__table__).where(Etablissement.__table__.c.id == bindparam("id"))


def _poste_etablissement() -> Etablissement | None:
    data = session.get("poste")
    if not isinstance(data, dict):
        return None
    etab_id = data.get("etab")
    etab = generation.attach(Etablissement, generation.cached(
        ("etablissement", etab_id), lambda: generation.first_row(_ETABLISSEMENT, {"id": etab_id}))
    ) if isinstance(etab_id, int) else None
    if (etab is None or not etab.actif or etab.inscription_token != data.get("token")
            or not postes.is_open(data.get("id"), etab.id)):
        session.pop("poste", None)
        return None
    return etab


def _candidat_inscription() -> Inscription | None:
    data = session.get("candidat")
    if not isinstance(data, dict):
        return None
    inscription_id = data.get("inscription")
    # Its pages all show the candidate, the exam and the specialty: one query for the lot.
    inscription = db.session.scalar(
        select(Inscription).where(Inscription.id == inscription_id)
        .options(joinedload(Inscription.candidat), joinedload(Inscription.examen),
                 joinedload(Inscription.specialite))) if isinstance(inscription_id, int) else None
    if inscription is None or inscription.session_token != data.get("token") or inscription.source != "public":
        session.pop("candidat", None)
        return None
    return inscription


def _api_token() -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    found = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token.strip()),
                                                     ApiToken.revoked_at.is_(None)))
    return found


def visitor_kinds(needed: frozenset[str]) -> set[str]:
    """The kinds the current visitor holds (only looked up where the route may need them)."""
    kinds = {"tous"}
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if isinstance(user, Gestionnaire):
        if user.must_change_password:
            kinds.add("gestionnaire_mdp_initial")
        else:
            kinds.add("gestionnaire")
            if user.is_admin:
                kinds.add("admin")
        g.gestionnaire = user
    elif isinstance(user, Etablissement):
        kinds.add("etablissement_mdp_defaut" if user.suivi_password_default else "etablissement")
        g.etablissement = user
    if "poste" in needed:
        etab = _poste_etablissement()
        if etab is not None:
            kinds.add("poste")
            g.poste = etab
            g.actor = g.get("actor") or {"type": "poste_inscription", "id": etab.id,
                                         "label": f"poste {etab.code}", "etablissement_code": etab.code}
    if "candidat" in needed:
        inscription = _candidat_inscription()
        if inscription is not None:
            kinds.add("candidat")
            g.inscription = inscription
            g.actor = g.get("actor") or {"type": "candidat", "id": inscription.id,
                                         "label": f"candidat {inscription.numero}"}
    if "api" in needed:
        token = _api_token()
        if token is not None:
            kinds.add("api")
            g.api_token = token
            g.actor = {"type": "api", "id": token.id, "label": f"jeton {token.prefixe}"}
            token.last_used_at = utcnow()
    return kinds


def enforce_access() -> Any:
    """before_request: refuse any route whose declared kinds the visitor does not hold."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    needed = getattr(view, "access", None)
    if needed is None:
        current_app.logger.error("route without access declaration: %s", request.endpoint)
        abort(403)
    kinds = visitor_kinds(needed)
    g.visitor_kinds = kinds
    if kinds & needed:
        return None
    return refuse(needed, kinds)


def _audit_refusal(kinds: set[str]) -> None:
    """A logged-in visitor refused a route is a security event (ASVS 7.2.2)."""
    audit.record("acces.refuse", outcome="refus", objet_type="Route", objet_id=request.endpoint,
                 details={"methode": request.method, "chemin": request.path[:200], "profils": sorted(kinds)})
    try:
        db.session.commit()
    except OperationalError:  # a busy database must not turn a refusal into an error
        db.session.rollback()


def refuse(needed: frozenset[str], kinds: set[str]) -> Any:
    if "api" in needed:
        abort(401)
    if "etablissement" in needed and "etablissement_mdp_defaut" in kinds:
        return redirect(url_for("etablissement.change_password"))
    if ({"gestionnaire", "admin"} & needed) and "gestionnaire_mdp_initial" in kinds:
        return redirect(url_for("gestionnaire.change_password"))
    if kinds - {"tous"}:
        _audit_refusal(kinds)
    if "admin" in needed and "gestionnaire" in kinds:
        abort(403)
    for kind in ("gestionnaire", "admin", "etablissement", "poste", "candidat"):
        if kind in needed:
            if request.method == "GET":
                session["next"] = request.full_path if request.query_string else request.path
            return redirect(url_for(LOGIN_ENDPOINTS[kind]))
    abort(403)
