"""Access matrix: every route of ``app.url_map`` x every kind of visitor.

Each route declares its allowed kinds with ``@allow``; ``docs/access-matrix.md`` lists
them (regenerate with ``python -m tests.security.access_doc``). A visitor without an
allowed kind never gets the page (redirect to a login, 401, 403, 404 or 405), whatever
the method; a visitor with one is never refused by the access layer.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portal.access import hash_api_token
from portal.extensions import db
from portal.models import ApiToken
from tests.conftest import open_computer
from tests.security.access_doc import MATRIX_FILE, render_matrix

VISITORS = {
    # name: kinds the visitor holds
    "anonyme": {"tous"},
    "poste": {"tous", "poste"},
    "chef_mdp_defaut": {"tous", "etablissement_mdp_defaut"},
    "chef": {"tous", "etablissement"},
    "chef_autre": {"tous", "etablissement"},
    "candidat": {"tous", "candidat"},
    "candidat_autre": {"tous", "candidat"},
    "gestionnaire_mdp_initial": {"tous", "gestionnaire_mdp_initial"},
    "gestionnaire": {"tous", "gestionnaire"},
    "admin": {"tous", "gestionnaire", "admin"},
    "api": {"tous", "api"},
}
DENIED = {302, 303, 401, 403, 404, 405}
API_TOKEN = "jeton-de-test-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def world(session_examen, make_etablissement, make_specialite, make_gestionnaire, make_inscription, open_service):
    # Services open, so that a refusal can only come from the access rules.
    open_service(session_examen, "etablissement")
    open_service(session_examen, "public")
    specialite = make_specialite("BCP")
    a = make_etablissement(password="Mot de passe du lycée A", inscription_password="Poste du lycée A 2027",
                           specialites=[specialite], service_ouvert=True, section_europeenne=True)
    b = make_etablissement(password="Mot de passe du lycée B", specialites=[specialite])
    defaut = make_etablissement()
    inscription_a = make_inscription(session_examen, specialite, a)
    public_1 = make_inscription(session_examen, specialite)
    public_2 = make_inscription(session_examen, specialite)
    db.session.add(ApiToken(nom="aval", token_hash=hash_api_token(API_TOKEN), prefixe=API_TOKEN[:8]))
    db.session.commit()
    return {
        "a": a, "b": b, "defaut": defaut, "inscription_a": inscription_a,
        "public_1": public_1, "public_2": public_2,
        "gestionnaire": make_gestionnaire(),
        "admin": make_gestionnaire(role="admin"),
        "gestionnaire_initial": make_gestionnaire(must_change=True),
    }


def _client_for(app, world, visitor: str):
    client = app.test_client()
    headers = {}
    with client.session_transaction() as sess:
        sess["login_at"] = datetime.now(timezone.utc).timestamp()
        sess.permanent = True
        user = {
            "chef_mdp_defaut": world["defaut"], "chef": world["a"], "chef_autre": world["b"],
            "gestionnaire_mdp_initial": world["gestionnaire_initial"], "gestionnaire": world["gestionnaire"],
            "admin": world["admin"],
        }.get(visitor)
        if user is not None:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        if visitor == "poste":
            sess["poste"] = {"etab": world["a"].id, "token": world["a"].inscription_token,
                             "id": open_computer(world["a"])}
        if visitor in {"candidat", "candidat_autre"}:
            inscription = world["public_1" if visitor == "candidat" else "public_2"]
            sess["candidat"] = {"inscription": inscription.id, "token": inscription.session_token}
    if visitor == "api":
        headers["Authorization"] = f"Bearer {API_TOKEN}"
    return client, headers


def _sample_url(rule, world) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = world["inscription_a"].id if kind in {"IntegerConverter"} else "1"
    from flask import url_for

    return url_for(rule.endpoint, **values)


def _routes(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)


def test_access_matrix_document_is_up_to_date(app):
    assert MATRIX_FILE.read_text(encoding="utf-8") == render_matrix(app), (
        "docs/access-matrix.md is out of date: run `python -m tests.security.access_doc`")


@pytest.mark.parametrize("visitor", sorted(VISITORS))
def test_each_route_admits_exactly_its_declared_visitors(app, world, visitor):
    kinds = VISITORS[visitor]
    client, headers = _client_for(app, world, visitor)
    problems = []
    with app.test_request_context():
        routes = [(rule, _sample_url(rule, world)) for rule in _routes(app)]
    for rule, url in routes:
        declared = app.view_functions[rule.endpoint].access
        allowed = bool(kinds & declared)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, headers=headers, data={})
            # A streamed body (exports) is closed now, in the order its contexts were pushed.
            response.close()
            status = response.status_code
            if not allowed and status not in DENIED:
                problems.append(f"{visitor} got {status} on {method} {url} (declared {sorted(declared)})")
            if not allowed and status in {302, 303}:
                location = response.headers["Location"]
                if not any(part in location for part in ("connexion", "mot-de-passe", "/inscription/")):
                    problems.append(f"{visitor} redirected to {location} by {method} {url}")
            if allowed and status in {401, 403}:
                problems.append(f"{visitor} refused ({status}) on {method} {url} though declared {sorted(declared)}")
            db.session.rollback()
    assert problems == []
