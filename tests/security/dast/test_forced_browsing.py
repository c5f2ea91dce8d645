"""Forced browsing (ASVS 4.3.2, 12.5.1, 14.3.2): files of the checkout, backups, debug
consoles and protected areas are never served to an anonymous visitor.

The paths go out exactly as written (http.client, no normalisation of ``..``), one
request each.
"""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.dast

# Path -> a marker of the file's content that must never appear in the answer.
SECRETS = {
    "/.git/config": "[core]",
    "/.git/HEAD": "ref: refs/",
    "/.env": "SECRET_KEY",
    "/.env.bak": "SECRET_KEY",
    "/console": "Werkzeug",
    "/static/../portal/config.py": "SECRET_KEY",
    "/static/..%2fportal/config.py": "SECRET_KEY",
    "/static/%2e%2e/portal/config.py": "SECRET_KEY",
    "/static/..%5cportal%5cconfig.py": "SECRET_KEY",
    "/portal/config.py": "SECRET_KEY",
    "/portal/config.py.bak": "SECRET_KEY",
    "/config.py.bak": "SECRET_KEY",
    "/wsgi.py": "create_app",
    "/wsgi.py.bak": "create_app",
    "/setup.cfg": "install_requires",
    "/setup.cfg.bak": "install_requires",
    "/Makefile": "PYTEST_ARGS",
    "/instance/portal.sqlite": "SQLite format",
    "/instance/portal.sqlite.bak": "SQLite format",
    "/portal.sqlite": "SQLite format",
    "/backup.zip": "PK",
    "/migrations/env.py": "alembic",
    "/static/dsfr/LICENSE.md.bak": "",
    "/server-status": "Apache",
    "/debug": "Traceback",
    "/bench/hello": "ok",
}
# Pages that exist but need a login: an anonymous visitor is sent to the login form.
PROTECTED = ["/gestionnaire/", "/gestionnaire/comptes", "/gestionnaire/journal", "/gestionnaire/jetons-api",
             "/etablissement/", "/etablissement/listes/alphabetique/csv", "/inscription/etape/identite",
             "/public/inscriptions/1"]


def raw_get(base: str, path: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", sorted(SECRETS))
def test_files_of_the_checkout_are_never_served(live, path):
    status, _headers, body = raw_get(live.url, path)
    assert status in (400, 404), f"{path} answered {status}"
    marker = SECRETS[path]
    if marker:
        assert marker.encode() not in body


@pytest.mark.parametrize("path", PROTECTED)
def test_protected_pages_send_an_anonymous_visitor_to_a_login(live, path):
    status, headers, body = raw_get(live.url, path)
    assert status in (302, 303, 401, 403, 404), f"{path} answered {status}"
    if status in (302, 303):
        assert "connexion" in headers["Location"] or headers["Location"].rstrip("/").endswith(("/inscription",
                                                                                                "/public"))
    assert b"<table" not in body


def test_api_without_a_token_is_refused(live):
    status, _headers, body = raw_get(live.url, "/api/v1/inscriptions")
    assert status == 401
    assert b"inscriptions" not in body or b"next_cursor" not in body
