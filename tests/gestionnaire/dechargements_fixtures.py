"""Fixtures of the unload, API and catalogue tests (imported by those modules)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from portal.extensions import db
from portal.services import api_tokens


def sign_in(http, compte) -> None:
    """Open a manager session directly (the login form has its own tests), freshly logged in."""
    with http.session_transaction() as session:
        session["_user_id"] = compte.get_id()
        session["_fresh"] = True
        session["login_at"] = datetime.now(timezone.utc).timestamp()


@pytest.fixture
def manager(client, make_gestionnaire):
    compte = make_gestionnaire()
    sign_in(client, compte)
    return compte


@pytest.fixture
def admin(client, make_gestionnaire):
    compte = make_gestionnaire(role="admin")
    sign_in(client, compte)
    return compte


@pytest.fixture
def api_token(app, make_gestionnaire):
    """A valid token: returns (row, clear value)."""
    auteur = make_gestionnaire(role="admin")
    token, clair = api_tokens.create_token("Système aval", auteur=auteur)
    db.session.commit()
    return token, clair


@pytest.fixture
def specialite(make_specialite):
    return make_specialite("BCP")


def parse_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode("utf-8")), "UTF-8 BOM expected"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
