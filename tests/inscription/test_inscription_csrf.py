"""The registration forms carry their CSRF token; a POST without it changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Inscription
from tests.conftest import STRONG_PASSWORD, csrf_from

from .conftest import IDENTITE


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def post_with_token(client, url, data):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_every_step_works_with_its_token_and_fails_without(client, ecole):
    assert client.post("/inscription/", data={"code": ecole.etab.code, "password": STRONG_PASSWORD}).status_code == 400
    response = post_with_token(client, "/inscription/", {"code": ecole.etab.code, "password": STRONG_PASSWORD})
    assert response.status_code == 302
    assert client.post("/inscription/etape/identite", data=IDENTITE).status_code == 400
    for step, data in (("identite", IDENTITE), ("contact", {"pays": "France"}),
                       ("specialite", {"specialite": str(ecole.specialites["CAP"].id)})):
        assert post_with_token(client, f"/inscription/etape/{step}", data).status_code == 302
    assert client.post("/inscription/recapitulatif").status_code == 400
    assert db.session.scalar(select(Inscription)) is None
    assert post_with_token(client, "/inscription/recapitulatif", {}).status_code == 302
    page = client.get("/inscription/confirmation").get_data(as_text=True)
    assert client.post("/inscription/nouvelle").status_code == 400
    assert client.post("/inscription/nouvelle", data={"csrf_token": csrf_from(page)}).status_code == 302


def test_public_verification_is_a_plain_get_form(client):
    assert client.get("/public/verifier", query_string={"code": "AAAA-BBBB-CCCC"}).status_code == 200
