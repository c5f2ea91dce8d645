"""The token-protected JSON API of the downstream system, and its OpenAPI document."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.access import hash_api_token
from portal.models import ApiToken, AuditEvent, Echange
from portal.services import api_tokens
from portal.services.inscriptions import mark_changed, set_cancelled

from .dechargements_fixtures import admin, api_token, manager, specialite  # noqa: F401


def _get(client, clair, **params):
    return client.get("/api/v1/inscriptions", query_string=params, headers={"Authorization": f"Bearer {clair}"})


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer pas-un-jeton", "Basic dXNlcjpwYXNz"])
def test_missing_or_wrong_token_gets_401_json(client, session_examen, api_token, header):
    response = client.get("/api/v1/inscriptions", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.is_json and response.json["erreur"] == "Authentification requise"


@pytest.mark.parametrize("header, challenge", [
    (None, 'Bearer realm="portal"'),
    ("Basic dXNlcjpwYXNz", 'Bearer realm="portal"'),
    ("Bearer ", 'Bearer realm="portal"'),
    ("Bearer pas-un-jeton", 'Bearer realm="portal", error="invalid_token"'),
])
def test_401_carries_the_bearer_challenge(client, session_examen, api_token, header, challenge):
    response = client.get("/api/v1/inscriptions", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith(challenge)
    if "invalid_token" not in challenge:
        assert "error=" not in response.headers["WWW-Authenticate"]


def test_more_than_120_requests_a_minute_get_429_per_token(client, session_examen, api_token,
                                                           make_gestionnaire):
    limiter.reset()
    _token, clair = api_token
    for _ in range(120):
        assert _get(client, clair).status_code == 200
    refused = _get(client, clair)
    assert refused.status_code == 429
    assert refused.is_json and refused.json["erreur"] == "Trop de demandes"
    assert "au plus 120 par minute" in refused.json["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    _other, autre = api_tokens.create_token("Autre système", auteur=make_gestionnaire(role="admin"))
    db.session.commit()
    assert _get(client, autre).status_code == 200  # another token has its own counter
    limiter.reset()


def test_requests_without_token_are_limited_by_address(client, session_examen):
    limiter.reset()
    for _ in range(120):
        assert client.get("/api/v1/inscriptions").status_code == 401
    refused = client.get("/api/v1/inscriptions")
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert client.get("/api/v1/openapi.json").status_code == 429  # one counter for the whole API
    limiter.reset()


def test_revoked_token_gets_401(client, session_examen, api_token):
    token, clair = api_token
    assert _get(client, clair).status_code == 200
    api_tokens.revoke_token(token)
    db.session.commit()
    assert _get(client, clair).status_code == 401


def test_valid_token_reads_changes_in_sequence_order(client, session_examen, specialite, make_inscription,
                                                     api_token, make_etablissement):
    etab = make_etablissement(specialites=[specialite])
    first = make_inscription(session_examen, specialite, etab)
    second = make_inscription(session_examen, specialite)
    response = _get(client, api_token[1])
    assert response.status_code == 200
    body = response.json
    assert [i["numero_version"] for i in body["inscriptions"]] == [f"{first.numero}-0", f"{second.numero}-0"]
    assert body["next_cursor"] == second.seq and body["has_more"] is False
    item = body["inscriptions"][0]
    assert item["etablissement"] == etab.code and item["specialite"] == specialite.code
    assert item["candidat"]["nom_naissance"] == first.candidat.nom_naissance
    assert item["candidat"]["date_naissance"] == "2008-03-01"
    assert body["inscriptions"][1]["etablissement"] is None


def test_cursor_paging_over_three_pages_gives_each_change_once(client, session_examen, specialite,
                                                               make_inscription, api_token):
    created = [make_inscription(session_examen, specialite) for _ in range(7)]
    seen, since, pages = [], 0, 0
    while True:
        body = _get(client, api_token[1], since=since, limit=3).json
        pages += 1
        seen += [i["numero"] for i in body["inscriptions"]]
        since = body["next_cursor"]
        if not body["has_more"]:
            break
    assert pages == 3
    assert seen == [i.numero for i in created]

    # Later changes (a modification, a cancellation) come once each, after the cursor.
    created[0].version += 1
    mark_changed(created[0])
    set_cancelled(created[1], True, par="test")
    db.session.commit()
    body = _get(client, api_token[1], since=since).json
    assert [(i["numero"], i["version"], i["statut"]) for i in body["inscriptions"]] == [
        (created[0].numero, 1, "active"), (created[1].numero, 0, "annulee")]
    assert _get(client, api_token[1], since=body["next_cursor"]).json == {
        "inscriptions": [], "next_cursor": body["next_cursor"], "has_more": False}


def test_api_calls_returning_data_are_recorded_and_audited(client, session_examen, specialite, make_inscription,
                                                           api_token):
    make_inscription(session_examen, specialite)
    make_inscription(session_examen, specialite)
    body = _get(client, api_token[1], since=0).json
    _get(client, api_token[1], since=body["next_cursor"])  # nothing new: not recorded

    echange = db.session.scalars(select(Echange).where(Echange.type == "export_api")).one()
    assert (echange.curseur_debut, echange.curseur_fin, echange.nb_lignes, echange.etat) == (0, 2, 2, "succes")
    assert api_token[0].prefixe in echange.acteur
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dechargement.api")).one()
    assert event.actor_type == "api"


@pytest.mark.parametrize("params, message", [
    ({"since": "abc"}, "since"),
    ({"since": "-1"}, "since"),
    ({"limit": "0"}, "limit"),
    ({"limit": "5001"}, "limit"),
    ({"limit": "1e3"}, "limit"),
])
def test_bad_parameters_get_a_400_in_french(client, session_examen, api_token, params, message):
    response = _get(client, api_token[1], **params)
    assert response.status_code == 400
    assert response.is_json and f"« {message} »" in response.json["message"]
    assert db.session.scalar(select(Echange.id)) is None


def test_limit_up_to_5000_is_accepted(client, session_examen, api_token):
    assert _get(client, api_token[1], limit=5000).status_code == 200


def test_openapi_document_describes_the_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.data)
    assert document["openapi"].startswith("3.1")
    operation = document["paths"]["/inscriptions"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"since", "limit"}
    assert {"200", "400", "401", "429"} <= set(operation["responses"])
    assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    schema = document["components"]["schemas"]["Inscription"]
    assert {"numero", "version", "statut", "seq", "candidat"} <= set(schema["properties"])


def test_openapi_schema_matches_what_the_api_returns(client, session_examen, specialite, make_inscription,
                                                     api_token):
    make_inscription(session_examen, specialite)
    document = client.get("/api/v1/openapi.json").json
    [item] = _get(client, api_token[1]).json["inscriptions"]
    schemas = document["components"]["schemas"]
    assert set(item) == set(schemas["Inscription"]["properties"])
    assert set(item["candidat"]) == set(schemas["Candidat"]["properties"])


# --- token management by admins --------------------------------------------------------


def test_admin_creates_a_token_shown_once_and_stored_hashed(client, admin, session_examen):
    response = client.post("/gestionnaire/jetons-api", data={"nom": "Organisation des examens"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    clair = re.search(r'<code id="jeton-clair">([^<]+)</code>', page).group(1)
    token = db.session.scalars(select(ApiToken)).one()
    assert token.token_hash == hash_api_token(clair) and clair not in token.token_hash
    assert token.prefixe == clair[:8] and token.created_by_id == admin.id

    listing = client.get("/gestionnaire/jetons-api").get_data(as_text=True)
    assert clair not in listing and f"{token.prefixe}…" in listing
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.cree")).one()
    assert clair not in json.dumps(event.details)
    assert _get(client, clair).status_code == 200


def test_admin_revokes_a_token_after_confirming(client, admin, api_token):
    token, clair = api_token
    client.post(f"/gestionnaire/jetons-api/{token.id}/revoquer")
    assert db.session.get(ApiToken, token.id).revoked_at is None
    response = client.post(f"/gestionnaire/jetons-api/{token.id}/revoquer", data={"confirmation": "oui"},
                           follow_redirects=True)
    assert "est révoqué" in response.get_data(as_text=True)
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "api_token.revoque")).one()
    assert client.post("/gestionnaire/jetons-api/999999/revoquer", data={"confirmation": "oui"}).status_code == 404


def test_token_without_a_name_is_refused_next_to_the_field(client, admin):
    page = client.post("/gestionnaire/jetons-api", data={"nom": "  "}).get_data(as_text=True)
    assert "Indiquez le nom du système" in page and 'id="resume-erreurs"' in page
    assert db.session.scalar(select(ApiToken.id)) is None


def test_plain_manager_cannot_manage_tokens(client, manager, api_token):
    assert client.get("/gestionnaire/jetons-api").status_code == 403
    assert client.post("/gestionnaire/jetons-api", data={"nom": "x"}).status_code == 403
    assert client.post(f"/gestionnaire/jetons-api/{api_token[0].id}/revoquer",
                       data={"confirmation": "oui"}).status_code == 403


def test_token_creation_asks_for_the_password_after_15_minutes(client, admin):
    with client.session_transaction() as session:
        session["login_at"] -= 16 * 60
    response = client.post("/gestionnaire/jetons-api", data={"nom": "Organisation des examens"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/gestionnaire/reauthentification")
    assert db.session.scalar(select(ApiToken.id)) is None
