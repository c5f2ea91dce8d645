"""CSRF on every state change, login and logout included (SECURITY item 19)."""
from __future__ import annotations

import time

import pytest

from portal.extensions import db
from portal.models import AuditEvent
from tests.conftest import csrf_from
from tests.security.test_sessions import HEAD_PASSWORD, _production_app


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True, "WTF_CSRF_TIME_LIMIT": 1}


@pytest.fixture
def head(make_etablissement):
    return make_etablissement(password=HEAD_PASSWORD)


def _events():
    return db.session.query(AuditEvent).count()


def test_login_without_token_is_refused(client, head):
    response = client.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD})
    assert response.status_code == 400
    assert "formulaire a expiré" in response.get_data(as_text=True)
    assert client.get("/etablissement/").status_code == 302


def test_token_of_another_session_is_refused(app, client, head):
    other = app.test_client()
    token = csrf_from(other.get("/etablissement/connexion").get_data(as_text=True))
    client.get("/etablissement/connexion")
    before = _events()
    response = client.post("/etablissement/connexion",
                           data={"code": head.code, "password": HEAD_PASSWORD, "csrf_token": token})
    assert response.status_code == 400
    assert _events() == before


def test_expired_token_is_refused(client, head):
    token = csrf_from(client.get("/etablissement/connexion").get_data(as_text=True))
    time.sleep(2.1)
    response = client.post("/etablissement/connexion",
                           data={"code": head.code, "password": HEAD_PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_logout_needs_a_token_and_get_does_not_log_out(client, head):
    token = csrf_from(client.get("/etablissement/connexion").get_data(as_text=True))
    client.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD, "csrf_token": token})
    assert client.get("/etablissement/deconnexion").status_code == 405
    assert client.post("/etablissement/deconnexion").status_code == 400
    assert client.get("/etablissement/").status_code == 200


def test_foreign_referer_is_refused_over_https(tmp_path):
    app = _production_app(tmp_path)
    client = app.test_client()
    token = csrf_from(client.get("/etablissement/connexion", base_url="https://localhost").get_data(as_text=True))
    response = client.post("/etablissement/connexion", base_url="https://localhost",
                           headers={"Referer": "https://evil.example/form"},
                           data={"code": "0691234A", "password": "x" * 12, "csrf_token": token})
    assert response.status_code == 400


def test_no_view_is_exempt_from_csrf(app):
    from portal.extensions import csrf

    bench_only = {name for name in csrf._exempt_blueprints if name == "bench"}
    assert csrf._exempt_views == set()
    assert set(csrf._exempt_blueprints) == bench_only
    assert "bench" not in app.blueprints
