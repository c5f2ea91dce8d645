"""Configuration pitfalls of our libraries (SECURITY items 13, 15, 21, 33, 35 and section 2).

The production configuration overrides the unsafe defaults; the session cookie cannot be
forged with a guessed key (the ``flask-unsign --wordlist`` attack, done with itsdangerous);
stored names with markup are shown as text in pages, exports and PDFs; no page puts a
token in a link.
"""
from __future__ import annotations

import io
import re
import secrets
from importlib.metadata import version
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from pypdf import PdfReader

from portal import create_app
from portal.config import DEV_SECRET_KEY, KNOWN_WEAK_KEYS, Config, secret_key_entropy_bits, secret_key_problem
from portal.extensions import csrf, login_manager
from tests.security.test_access_matrix import VISITORS, _client_for, _sample_url, world  # noqa: F401
from tests.security.test_sessions import _production_app

ROOT = Path(__file__).resolve().parents[2]
WORDLIST = sorted(KNOWN_WEAK_KEYS | {DEV_SECRET_KEY, "secret", "password", "flask", "changeme", "s3cr3t", "key",
                                     "supersecret", "portal", "portail", "testing-secret-key-0123456789abcdef0123456789"})


def test_session_cookie_cannot_be_forged_with_a_guessed_key(tmp_path):
    app = _production_app(tmp_path)
    interface = SecureCookieSessionInterface()
    with app.test_request_context():
        cookie = interface.get_signing_serializer(app).dumps({"login_at": 1, "_user_id": "g:x"})
    for guess in WORDLIST:
        attacker = Flask("attaque")
        attacker.secret_key = guess or "x"
        with pytest.raises(BadSignature):
            interface.get_signing_serializer(attacker).loads(cookie)


@pytest.mark.parametrize("key", ["", "dev", "changeme", DEV_SECRET_KEY, "court",
                                 # long enough, but of low entropy (issue 15 point 11)
                                 "a" * 40, "ab" * 20, "0" * 64, "abcd" * 12])
def test_production_refuses_a_weak_secret_key(tmp_path, key):
    class Prod(Config):
        SECRET_KEY = key
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'p.sqlite'}"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Prod)


def test_secret_key_problem_estimates_the_entropy():
    assert "trop prévisible" in secret_key_problem("a" * 40)
    assert secret_key_entropy_bits("a" * 40) == 0
    assert secret_key_problem(secrets.token_urlsafe(48)) is None
    assert secret_key_problem(secrets.token_hex(32)) is None
    assert secret_key_entropy_bits(secrets.token_urlsafe(48)) >= 256


def test_production_overrides_the_unsafe_library_defaults(tmp_path):
    app = _production_app(tmp_path)
    assert app.debug is False and not app.config.get("LOGIN_DISABLED")
    assert app.config["WTF_CSRF_ENABLED"] is not False and app.config["WTF_CSRF_SSL_STRICT"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_DURATION"].total_seconds() <= 3600
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() <= 30 * 60
    assert app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds() <= 12 * 3600
    assert app.config["USE_SESSION_FOR_NEXT"] is True
    assert Config.PASSWORD_HASH_METHOD == "scrypt" and app.config["RATELIMIT_ENABLED"]
    assert login_manager.session_protection in {"basic", "strong"}
    assert csrf._exempt_views == set()


def test_weasyprint_is_pinned_at_least_70():
    assert int(version("weasyprint").split(".")[0]) >= 70
    assert re.search(r"weasyprint>=7\d", (ROOT / "setup.cfg").read_text(encoding="utf-8"))


HOSTILE = {"nom_naissance": "{{7*7}}<script>alert(1)</script>", "prenom1": '"><img src=x onerror=alert(1)>',
           "commune_naissance": "{{7*7}}", "adresse1": "javascript:alert(1)"}


def test_stored_markup_is_shown_as_text_everywhere(app, world, make_inscription):
    inscription = make_inscription(world["inscription_a"].session, world["inscription_a"].specialite, world["a"],
                                   candidat=HOSTILE)
    chef, _ = _client_for(app, world, "chef")
    gestionnaire, _ = _client_for(app, world, "gestionnaire")
    pages = [chef.get("/etablissement/listes/alphabetique"), chef.get("/etablissement/validation"),
             gestionnaire.get(f"/gestionnaire/etablissements/{world['a'].code}"),
             gestionnaire.get("/gestionnaire/journal")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "49&lt;script" not in html
    listing = chef.get("/etablissement/listes/alphabetique").get_data(as_text=True)
    assert "{{7*7}}&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    csv_text = chef.get("/etablissement/listes/alphabetique/csv").get_data(as_text=True)
    assert "{{7*7}}<script>alert(1)</script>" in csv_text  # a CSV is data: kept as typed
    pdf = chef.get("/etablissement/listes/alphabetique/pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert "{{7*7}}<script>alert(1)</script>" in text
    assert inscription.candidat.nom_naissance == HOSTILE["nom_naissance"]


def test_no_page_puts_a_token_or_session_in_a_link(app, world):
    with app.test_request_context():
        routes = [(r, _sample_url(r, world)) for r in app.url_map.iter_rules()
                  if "GET" in r.methods and r.endpoint != "static"]
    pattern = re.compile(r'(?:href|action|src)="[^"]*(?:token|session|csrf|secret|password)=', re.I)
    for name in VISITORS:
        client, headers = _client_for(app, world, name)
        for rule, url in routes:
            if name not in {"anonyme"} and "tous" in app.view_functions[rule.endpoint].access:
                continue
            html = client.get(url, headers=headers).get_data(as_text=True)
            assert not pattern.search(html), f"{name} {url}: {pattern.search(html).group(0)}"
