"""Sessions and authentication hardening (SECURITY items 7, 9-13, 20, 33)."""
from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
import time_machine

from portal import create_app
from portal.access import allow
from portal.auth import is_safe_next
from portal.config import Config
from portal.extensions import db
from tests.conftest import csrf_from

HEAD_PASSWORD = "Mot de passe du chef 2027"
BAD_NEXT = ["http://evil.example", "https://evil.example", "//evil.example", "///evil.example",
            "\\\\evil.example", "/\\evil.example", "javascript:alert(1)", "http:/\\evil.example",
            "ftp://evil.example", " //evil.example"]


@pytest.fixture
def head(make_etablissement):
    return make_etablissement(password=HEAD_PASSWORD)


def _dashboard(client):
    return client.get("/etablissement/")


@pytest.mark.parametrize("target", BAD_NEXT)
def test_next_parameter_never_leads_to_another_host(target):
    assert not is_safe_next(target)


@pytest.mark.parametrize("target", ["/etablissement/", "/etablissement/listes?tri=nom", "/gestionnaire/"])
def test_next_parameter_keeps_local_paths(target):
    assert is_safe_next(target)


@pytest.mark.parametrize("target", BAD_NEXT)
def test_login_with_hostile_next_redirects_inside_the_portal(client, head, target):
    response = client.post(f"/etablissement/connexion?next={target}",
                           data={"code": head.code, "password": HEAD_PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location


def test_login_gives_a_new_session_and_a_new_csrf_token(client, head):
    client.get("/etablissement/connexion")
    with client.session_transaction() as sess:
        sess["avant_connexion"] = "x"
        before_csrf = sess.get("csrf_token")
    client.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD})
    with client.session_transaction() as sess:
        assert "avant_connexion" not in sess
        assert sess.get("csrf_token") in (None,) or sess.get("csrf_token") != before_csrf


def _cookie(client):
    return client.get_cookie("session").value


def test_logout_revokes_a_copied_session_cookie(app, client, head):
    client.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD})
    assert _dashboard(client).status_code == 200
    stolen = _cookie(client)
    client.post("/etablissement/deconnexion")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = _dashboard(thief)
    assert response.status_code == 302 and "connexion" in response.headers["Location"]


def test_password_change_ends_the_other_sessions(app, client, head):
    other = app.test_client()
    for c in (client, other):
        c.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD})
    assert _dashboard(other).status_code == 200
    response = client.post("/etablissement/mot-de-passe", data={
        "current_password": HEAD_PASSWORD, "new_password": "Un tout nouveau mot de passe 2027",
        "confirmation": "Un tout nouveau mot de passe 2027"})
    assert response.status_code == 302
    assert _dashboard(client).status_code == 200
    assert _dashboard(other).status_code == 302


class TestIdleTimeout:
    @pytest.fixture
    def app_overrides(self):
        return {"PERMANENT_SESSION_LIFETIME": timedelta(seconds=1)}

    def test_idle_session_expires(self, client, head):
        client.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD})
        assert _dashboard(client).status_code == 200
        time.sleep(2.1)
        assert _dashboard(client).status_code == 302


def test_activity_keeps_the_session_and_the_cookie_is_signed_again_at_most_once_a_minute(client, head):
    def session_cookie_set(response) -> bool:
        return any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))

    with time_machine.travel("2027-03-01 08:00:00+00:00", tick=False) as traveller:
        client.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD})
        assert _dashboard(client).status_code == 200  # its forms put a CSRF token in the session
        traveller.shift(timedelta(seconds=30))
        response = _dashboard(client)
        assert response.status_code == 200 and not session_cookie_set(response)
        traveller.shift(timedelta(minutes=20))
        response = _dashboard(client)
        assert response.status_code == 200 and session_cookie_set(response)
        traveller.shift(timedelta(minutes=25))  # 45 minutes after login, 25 after the last signature
        assert _dashboard(client).status_code == 200
        traveller.shift(timedelta(minutes=31))
        assert _dashboard(client).status_code == 302


def test_absolute_timeout_ends_an_active_session_after_twelve_hours(app, client, head):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=2)
    with time_machine.travel("2027-03-01 08:00:00+00:00", tick=False) as traveller:
        client.post("/etablissement/connexion", data={"code": head.code, "password": HEAD_PASSWORD})
        for _ in range(11):
            traveller.shift(timedelta(hours=1))
            assert _dashboard(client).status_code == 200
        traveller.shift(timedelta(hours=1, minutes=1))
        assert _dashboard(client).status_code == 302


def test_unknown_code_and_wrong_password_look_the_same(client, head):
    def attempt(code):
        start = time.perf_counter()
        response = client.post("/etablissement/connexion", data={"code": code, "password": "mauvais mot de passe"})
        return response, time.perf_counter() - start

    from portal.extensions import limiter

    unknown, known = [], []
    for _ in range(20):
        limiter.reset()
        r1, t1 = attempt("0999999Z")
        r2, t2 = attempt(head.code)
        unknown.append(t1)
        known.append(t2)
    assert r1.status_code == r2.status_code
    assert _error_text(r1) == _error_text(r2)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.2 < ratio < 5


def _error_text(response):
    import re

    page = response.get_data(as_text=True)
    return re.findall(r'class="fr-(?:error-text|alert[^"]*)"[^>]*>(.*?)<', page, re.S)


def _production_app(tmp_path):
    class Prod(Config):
        SECRET_KEY = "a-production-like-secret-key-0123456789abcdef"
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'prod.sqlite'}"
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    app = create_app(Prod)

    @app.get("/_boom")
    @allow("tous")
    def boom():
        raise RuntimeError("secret internal detail")

    with app.app_context():
        db.create_all()
    return app


def test_production_cookies_are_secure_httponly_samesite_host_prefixed(tmp_path, make_etablissement):
    app = _production_app(tmp_path)
    with app.app_context():
        from portal.models import Etablissement
        from portal.services.passwords import hash_password

        etab = Etablissement(code="0691234A", nom="Lycée", type="LP", suivi_password_hash=hash_password(HEAD_PASSWORD),
                             suivi_password_default=False, inscription_password_hash=hash_password("x" * 12))
        db.session.add(etab)
        db.session.commit()
    client = app.test_client()
    form = client.get("/etablissement/connexion", base_url="https://localhost")
    response = client.post("/etablissement/connexion", base_url="https://localhost",
                           headers={"Referer": "https://localhost/etablissement/connexion"},
                           data={"code": "0691234A", "password": HEAD_PASSWORD,
                                 "csrf_token": csrf_from(form.get_data(as_text=True))})
    assert response.status_code == 302
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    session_cookie = next(c for c in cookies if c.startswith("__Host-session="))
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in session_cookie
    assert "Domain" not in session_cookie
    assert not any(c.startswith("remember_token") for c in cookies)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_errors_show_an_incident_reference_and_no_trace(tmp_path):
    app = _production_app(tmp_path)
    client = app.test_client()
    response = client.get("/_boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Référence de l’incident" in page
    assert "secret internal detail" not in page and "Traceback" not in page
    assert client.get("/console").status_code == 404
    assert "Server" not in response.headers or "Werkzeug" not in response.headers["Server"]
