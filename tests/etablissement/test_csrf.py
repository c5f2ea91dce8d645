"""With CSRF protection on (as in production): every POST needs the token."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import Etablissement, Inscription
from tests.conftest import STRONG_PASSWORD, csrf_from


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def connected(client, etab):
    page = client.get("/etablissement/connexion")
    response = client.post("/etablissement/connexion", data={
        "code": etab.code, "password": STRONG_PASSWORD, "csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    return client


def current(etab) -> Etablissement:
    db.session.expire_all()
    return db.session.get(Etablissement, etab.id)


def test_login_without_token_is_refused(client, etab):
    response = client.post("/etablissement/connexion", data={"code": etab.code, "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert client.get("/etablissement/").status_code == 302


OTHER = "Un autre mot de passe sûr"


@pytest.mark.parametrize("url, data", [
    ("/etablissement/service/fermer", {}),
    ("/etablissement/section-europeenne", {"reponse": "non"}),
    ("/etablissement/mot-de-passe-inscription", {"current_password": STRONG_PASSWORD, "new_password": OTHER,
                                                 "confirmation": OTHER}),
    ("/etablissement/mot-de-passe", {"current_password": STRONG_PASSWORD, "new_password": OTHER,
                                     "confirmation": OTHER}),
    ("/etablissement/deconnexion", {}),
])
def test_post_without_token_changes_nothing(connected, etab, url, data):
    etab.section_europeenne = True
    etab.service_ouvert = True
    db.session.commit()
    before = current(etab)
    hashes = (before.suivi_password_hash, before.inscription_password_hash, before.suivi_token)
    response = connected.post(url, data=data)
    assert response.status_code == 400
    after = current(etab)
    assert (after.suivi_password_hash, after.inscription_password_hash, after.suivi_token) == hashes
    assert after.service_ouvert is True and after.section_europeenne is True
    assert connected.get("/etablissement/").status_code == 200


def test_cancellation_without_token_changes_nothing(connected, etab, cap, session_examen, make_inscription):
    inscription = make_inscription(session_examen, cap, etab)
    response = connected.post("/etablissement/validation", data={"ids": [str(inscription.id)],
                                                                 "annulee": [str(inscription.id)]})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Inscription, inscription.id).statut == "active"


def test_forms_carry_the_token_and_work(connected, etab, cap, session_examen, make_inscription):
    inscription = make_inscription(session_examen, cap, etab)
    page = connected.get("/etablissement/validation")
    response = connected.post("/etablissement/validation", data={
        "ids": [str(inscription.id)], "annulee": [str(inscription.id)], "csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inscription, inscription.id).statut == "annulee"
    dashboard = connected.get("/etablissement/")
    connected.post("/etablissement/service/ouvrir", data={"csrf_token": csrf_from(dashboard.text)})
    assert current(etab).service_ouvert is False  # BCP establishment has not answered yet
    logout = connected.post("/etablissement/deconnexion", data={"csrf_token": csrf_from(dashboard.text)})
    assert logout.status_code == 302
    assert connected.get("/etablissement/").status_code == 302
