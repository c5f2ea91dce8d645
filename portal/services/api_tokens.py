"""Tokens of the downstream system calling the JSON API.

The clear token is returned once, at creation, and never stored: the database keeps its
SHA-256 (``access.hash_api_token``) and a short prefix to recognise it in lists.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select

from ..access import hash_api_token
from ..extensions import db
from ..models import ApiToken, Gestionnaire, utcnow
from . import ServiceError, audit

PREFIX_LENGTH = 8


def create_token(nom: str, *, auteur: Gestionnaire) -> tuple[ApiToken, str]:
    """A new token; returns the row and the clear value, to be shown once."""
    nom = (nom or "").strip()
    if not nom:
        raise ServiceError("Indiquez le nom du système qui utilisera ce jeton.", field="nom")
    clair = secrets.token_urlsafe(32)
    token = ApiToken(nom=nom[:120], token_hash=hash_api_token(clair), prefixe=clair[:PREFIX_LENGTH],
                     created_by_id=auteur.id)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.cree", token, details={"nom": token.nom, "prefixe": token.prefixe})
    return token, clair


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                             ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(token: ApiToken) -> bool:
    """Revoke a token; False when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record("api_token.revoque", token, details={"nom": token.nom, "prefixe": token.prefixe})
    return True
