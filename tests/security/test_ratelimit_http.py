"""Brute force on every login path (SECURITY item 1).

Over real HTTP (gunicorn on 127.0.0.1, CSRF on): the sixth wrong password for one
establishment from one address gets 429, even with the right password, and rotating
``X-Forwarded-For`` values does not reset the count (no proxy is trusted by default, the
header is ignored). Through the test client: behind a trusted proxy (PROXY_FIX_HOPS=1)
spoofed addresses each get their own count, but the account-wide limit still holds; the
right password works again once the window has passed; the school computer, the public
candidate and the manager logins behave the same.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
import time_machine
from sqlalchemy import select

from portal import create_app
from portal.config import DevelopmentConfig
from portal.extensions import db, limiter
from portal.models import AuditEvent, Etablissement
from portal.services.passwords import hash_password
from tests.conftest import STRONG_PASSWORD
from tests.support.liveserver import LiveServer

CODE = "0691234A"
HEAD_PASSWORD = "Mot de passe du chef 2027"
POSTE_PASSWORD = "Mot de passe des postes 2027"
TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- over real HTTP --------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ratelimit-live")
    server = LiveServer(workdir, workers=1, demo=False)
    server.prepare()
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=server.env["DATABASE_URL"])
    with app.app_context():
        db.session.add(Etablissement(code=CODE, nom="Lycée du test", type="LP", commune="Lyon",
                                     suivi_password_hash=hash_password(HEAD_PASSWORD), suivi_password_default=False,
                                     inscription_password_hash=hash_password(POSTE_PASSWORD),
                                     inscription_password_default=False))
        db.session.commit()
        db.engine.dispose()
    with server:
        yield server


def _post_form(http: requests.Session, url: str, data: dict, **headers) -> requests.Response:
    page = http.get(url, timeout=10)
    token = TOKEN_RE.search(page.text).group(1)
    return http.post(url, data={**data, "csrf_token": token}, headers=headers, timeout=30, allow_redirects=False)


@pytest.mark.parametrize(("path", "right", "protected"), [
    ("/etablissement/connexion", HEAD_PASSWORD, "/etablissement/"),
    ("/inscription/", POSTE_PASSWORD, "/inscription/etape/identite"),
])
def test_sixth_attempt_over_http_is_refused_even_with_the_right_password_and_spoofed_addresses(
        live, path, right, protected):
    url = live.url + path
    attacker = requests.Session()
    for i in range(5):
        response = _post_form(attacker, url, {"code": CODE, "password": f"mauvais {i}"},
                              **{"X-Forwarded-For": f"203.0.113.{i}"})
        assert response.status_code == 200 and "incorrect" in response.text
    for i in range(3):
        http = requests.Session()
        blocked = _post_form(http, url, {"code": CODE, "password": right},
                             **{"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}"})
        assert blocked.status_code == 429, blocked.text[:500]
        assert "Trop de tentatives" in blocked.text
        assert http.get(live.url + protected, timeout=10, allow_redirects=False).status_code == 302


# --- through the test client -----------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_limiter(app):
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def etab(make_etablissement):
    return make_etablissement(CODE, password=HEAD_PASSWORD, inscription_password=POSTE_PASSWORD, service_ouvert=True)


def _head_login(client, password: str, ip: str = "192.0.2.10", xff: str | None = None):
    headers = {"X-Forwarded-For": xff} if xff else {}
    return client.post("/etablissement/connexion", data={"code": CODE, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, headers=headers)


class TestBehindATrustedProxy:
    @pytest.fixture
    def app_overrides(self):
        return {"PROXY_FIX_HOPS": 1}

    def test_spoofed_addresses_still_meet_the_account_wide_limit(self, app, etab):
        for i in range(30):
            assert _head_login(app.test_client(), "mauvais", xff=f"203.0.113.{i}").status_code == 200
        blocked = _head_login(app.test_client(), HEAD_PASSWORD, xff="198.51.100.7")
        assert blocked.status_code == 429
        ips = set(db.session.scalars(select(AuditEvent.ip).where(AuditEvent.action == "etablissement.connexion")))
        assert "203.0.113.0" in ips and "198.51.100.7" in ips  # the proxy's client address is recorded

    def test_one_address_is_still_limited_to_five_attempts(self, app, etab):
        for _ in range(5):
            _head_login(app.test_client(), "mauvais", xff="203.0.113.50")
        assert _head_login(app.test_client(), HEAD_PASSWORD, xff="203.0.113.50").status_code == 429
        assert _head_login(app.test_client(), HEAD_PASSWORD, xff="203.0.113.51").status_code == 302


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(app, etab):
    for i in range(5):
        _head_login(app.test_client(), "mauvais", xff=f"203.0.113.{i}")
    assert _head_login(app.test_client(), HEAD_PASSWORD, xff="198.51.100.1").status_code == 429
    ips = set(db.session.scalars(select(AuditEvent.ip).where(AuditEvent.action == "etablissement.connexion")))
    assert ips == {"192.0.2.10"}


def _poste(client, password):
    return client.post("/inscription/", data={"code": CODE, "password": password},
                       environ_base={"REMOTE_ADDR": "192.0.2.20"})


def _candidate(client, numero, secret):
    return client.post("/public/connexion", data={"numero": str(numero), "date_naissance": "1990-02-03",
                                                  "secret": secret}, environ_base={"REMOTE_ADDR": "192.0.2.30"})


def _manager(client, email, password):
    return client.post("/gestionnaire/connexion", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": "192.0.2.40"})


@pytest.fixture
def accounts(app, etab, session_examen, make_specialite, make_inscription, make_gestionnaire, open_service):
    """Right credentials of each login path, as a function of the client."""
    from portal.services.passwords import hash_password as hashed

    open_service(session_examen, "etablissement")
    inscription = make_inscription(session_examen, make_specialite("CAP"),
                                   candidat={"date_naissance": datetime(1990, 2, 3).date()},
                                   secret_hash=hashed(STRONG_PASSWORD))
    compte = make_gestionnaire()
    return {
        "etablissement": lambda c, ok: _head_login(c, HEAD_PASSWORD if ok else "mauvais"),
        "poste": lambda c, ok: _poste(c, POSTE_PASSWORD if ok else "mauvais"),
        "candidat": lambda c, ok: _candidate(c, inscription.numero, STRONG_PASSWORD if ok else "mauvais secret"),
        "gestionnaire": lambda c, ok: _manager(c, compte.email, STRONG_PASSWORD if ok else "mauvais"),
    }


@pytest.mark.parametrize("path", ["etablissement", "poste", "candidat", "gestionnaire"])
def test_each_login_locks_after_five_failures_and_reopens_after_the_window(app, accounts, path):
    attempt = accounts[path]
    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            assert attempt(app.test_client(), False).status_code == 200
        blocked = attempt(app.test_client(), True)
        assert blocked.status_code == 429 and "Trop de tentatives" in blocked.get_data(as_text=True)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert attempt(app.test_client(), True).status_code == 429
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert attempt(app.test_client(), True).status_code == 302


def test_lockout_of_one_school_leaves_another_school_alone(app, etab, make_etablissement):
    other = make_etablissement("0697777B", password=HEAD_PASSWORD)
    for _ in range(6):
        _head_login(app.test_client(), "mauvais")
    response = app.test_client().post("/etablissement/connexion", data={"code": other.code, "password": HEAD_PASSWORD},
                                      environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 302
