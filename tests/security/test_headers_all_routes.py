"""Security headers on every response (SECURITY items 30, 31 and 32).

Every GET route of ``app.url_map``, requested by a visitor it admits and by an anonymous
one (a redirect to a login), plus 404, 405, 500, static files and every download: the
CSP without ``unsafe-inline`` scripts, nosniff, referrer policy, frame denial; nothing but
static files may be stored by a browser or proxy; downloads are attachments with their
exact type. HSTS in the production configuration.
"""
from __future__ import annotations

import re

import pytest
from flask import url_for

from portal.extensions import db
from portal.models import Echange
from tests.security.test_access_matrix import API_TOKEN, VISITORS, _client_for, _sample_url, world  # noqa: F401
from tests.security.test_sessions import _production_app

VISITOR_OF_KIND = {"tous": "anonyme", "poste": "poste", "candidat": "candidat", "etablissement": "chef",
                   "etablissement_mdp_defaut": "chef_mdp_defaut", "gestionnaire": "gestionnaire", "admin": "admin",
                   "gestionnaire_mdp_initial": "gestionnaire_mdp_initial", "api": "api"}


def assert_security_headers(response, what: str, *, static: bool = False) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, f"{what}: CSP lacks {directive}"
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and "unsafe-inline" not in script_src.group(1) and "unsafe-eval" not in script_src.group(1)
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("Referrer-Policy") in {"strict-origin-when-cross-origin", "same-origin", "no-referrer",
                                        "strict-origin"}, what
    assert h.get("X-Frame-Options") == "DENY", what
    assert "Werkzeug" not in h.get("Server", "") and "Python" not in h.get("Server", ""), what
    if not static:
        assert "no-store" in h.get("Cache-Control", ""), f"{what}: {h.get('Cache-Control')}"


def _get_routes(app):
    return sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"),
                  key=lambda r: r.rule)


def test_every_get_route_carries_the_headers_for_its_visitors_and_for_anonymous(app, world):
    clients = {name: _client_for(app, world, name) for name in VISITORS}
    with app.test_request_context():
        routes = [(rule, _sample_url(rule, world)) for rule in _get_routes(app)]
    seen_statuses = set()
    for rule, url in routes:
        declared = app.view_functions[rule.endpoint].access
        for visitor in {VISITOR_OF_KIND[k] for k in declared} | {"anonyme"}:
            client, headers = clients[visitor]
            response = client.get(url, headers=headers)
            assert response.status_code < 500, f"{visitor} GET {url}: {response.status_code}"
            seen_statuses.add(response.status_code)
            assert_security_headers(response, f"{visitor} GET {url} ({response.status_code})")
            db.session.rollback()
    assert {200, 302} <= seen_statuses


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nexiste-pas", 404), ("GET", "/etablissement/listes/inconnue", 302),
    ("POST", "/", 405), ("GET", "/gestionnaire/comptes/999999/mot-de-passe", 302),
    ("GET", "/static/dsfr/dsfr.min.css", 200),
])
def test_errors_redirects_and_static_files_carry_the_headers(client, method, path, status):
    response = client.open(path, method=method)
    response.close()  # a static file is sent from an open file
    assert response.status_code == status
    assert_security_headers(response, f"{method} {path}", static=path.startswith("/static/"))


def test_production_adds_hsts_and_the_500_page_has_the_headers(tmp_path):
    app = _production_app(tmp_path)
    client = app.test_client()
    for path, status in (("/", 200), ("/_boom", 500), ("/nexiste-pas", 404), ("/etablissement/", 302)):
        response = client.get(path, base_url="https://localhost")
        assert response.status_code == status
        assert_security_headers(response, path)
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert re.match(r"max-age=(\d+)", hsts) and int(re.match(r"max-age=(\d+)", hsts).group(1)) >= 31536000
        assert "includeSubDomains" in hsts


def _assert_download(response, content_type: str, extension: str) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"].replace(" ", "").lower() == content_type
    disposition = response.headers.get("Content-Disposition", "")
    assert disposition.startswith("attachment;"), disposition
    filename = re.search(r'filename="?([^";]+)', disposition).group(1)
    assert filename.endswith(extension) and re.fullmatch(r"[A-Za-z0-9._-]+", filename), filename
    assert_security_headers(response, response.request.path)
    body = response.get_data()
    assert body.startswith(b"%PDF") if extension == ".pdf" else not body.lstrip(b"\xef\xbb\xbf").startswith(b"<")


def test_every_download_is_an_attachment_of_its_exact_type_never_cached(app, world):
    chef, _ = _client_for(app, world, "chef")
    specialite = world["inscription_a"].specialite_id
    with app.test_request_context():
        urls = {
            "csv": [url_for("etablissement.download_liste_csv", kind="alphabetique"),
                    url_for("etablissement.download_eleves_non_inscrits")],
            "pdf": [url_for("etablissement.download_liste_pdf", kind="alphabetique"),
                    url_for("etablissement.download_confirmations", specialite=specialite)],
        }
    for url in urls["csv"]:
        _assert_download(chef.get(url), "text/csv;charset=utf-8", ".csv")
    for url in urls["pdf"]:
        _assert_download(chef.get(url), "application/pdf", ".pdf")

    poste, _ = _client_for(app, world, "poste")
    with poste.session_transaction() as sess:
        sess["derniere_inscription"] = world["inscription_a"].id
    _assert_download(poste.get("/inscription/confirmation/pdf"), "application/pdf", ".pdf")

    candidat, _ = _client_for(app, world, "candidat")
    _assert_download(candidat.get(f"/public/inscriptions/{world['public_1'].id}/pdf"), "application/pdf", ".pdf")

    gestionnaire, _ = _client_for(app, world, "gestionnaire")
    export = gestionnaire.post("/gestionnaire/dechargements/complet")
    _assert_download(export, "text/csv;charset=utf-8", ".csv")
    export.close()
    echange = Echange(type="eleves", etat="echec", acteur="x@ac-test.fr", rapport=[
        {"ligne": 2, "colonne": "nom", "message": "=HYPERLINK(\"http://x\")"}])
    db.session.add(echange)
    db.session.commit()
    report = gestionnaire.get(f"/gestionnaire/echanges/{echange.id}/rapport.csv")
    _assert_download(report, "text/csv;charset=utf-8", ".csv")
    assert "'=HYPERLINK" in report.get_data(as_text=True)


def test_the_api_answers_json_never_cached(app, world):
    client, headers = _client_for(app, world, "api")
    response = client.get("/api/v1/inscriptions", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert_security_headers(response, "api")
    assert API_TOKEN not in response.get_data(as_text=True)
