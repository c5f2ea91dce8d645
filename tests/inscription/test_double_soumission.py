"""A pupil's final confirmation sent twice (double click, second tab, Back then submit, a
retried request) answers with the same registration and its number, and the computer stays
open; Back and reload after success show the saved registration (issue 15, points 4 and 6).
CSRF protection is on, as in production: the second submission carries the same token."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Inscription
from tests.conftest import STRONG_PASSWORD, csrf_from

from .conftest import CONTACT, IDENTITE, text

COOKIE = "session"


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def post(client, url: str, data: dict):
    """Post a form as a browser does: with the token of the page that shows it."""
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


@pytest.fixture
def computer(client, ecole):
    response = post(client, "/inscription/", {"code": ecole.etab.code, "password": STRONG_PASSWORD})
    assert response.status_code == 302
    return ecole


def until_review(client, specialite) -> str:
    """Fill every step; returns the token of the review page's form."""
    for step, data in (("identite", IDENTITE), ("contact", CONTACT), ("specialite", {"specialite": str(specialite.id)})):
        assert post(client, f"/inscription/etape/{step}", data).status_code == 302
    page = client.get("/inscription/recapitulatif")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def count() -> int:
    return db.session.scalar(select(func.count(Inscription.id)))


def test_double_click_on_confirm_shows_the_same_number_and_keeps_the_computer_open(client, computer):
    token = until_review(client, computer.specialites["CAP"])
    before = client.get_cookie(COOKIE).value
    first = client.post("/inscription/recapitulatif", data={"csrf_token": token})
    assert first.headers["Location"].endswith("/inscription/confirmation")
    # The second click left before the first answer came back: the cookie of before.
    client.set_cookie(COOKIE, before)
    second = client.post("/inscription/recapitulatif", data={"csrf_token": token})
    assert second.status_code == 302 and second.headers["Location"].endswith("/inscription/confirmation")
    page = text(client.get("/inscription/confirmation"))
    assert 'id="numero-inscription">1-0<' in page and "déjà enregistrée sous le numéro 1-0" in page
    assert "Une inscription active existe déjà" not in page
    assert count() == 1
    # Later pages of the computer still work with the cookie of the second answer.
    assert client.get("/inscription/confirmation").status_code == 200
    assert client.get("/inscription/confirmation/pdf").status_code == 200
    assert "1-0" in text(client.get("/inscription/confirmation"))


def test_back_then_confirm_again_shows_the_same_registration(client, computer):
    token = until_review(client, computer.specialites["CAP"])
    assert client.post("/inscription/recapitulatif", data={"csrf_token": token}).status_code == 302
    back = client.get("/inscription/recapitulatif")
    assert back.headers["Location"].endswith("/inscription/confirmation")
    # A page kept by the browser, its form sent again.
    again = client.post("/inscription/recapitulatif", data={"csrf_token": token})
    assert again.headers["Location"].endswith("/inscription/confirmation")
    page = text(client.get("/inscription/confirmation"))
    assert "1-0" in page and "déjà enregistrée" in page
    assert count() == 1


def test_back_or_reload_after_success_never_shows_an_empty_first_step(client, computer):
    token = until_review(client, computer.specialites["CAP"])
    client.post("/inscription/recapitulatif", data={"csrf_token": token})
    for url in ("/inscription/recapitulatif", "/inscription/etape/specialite", "/inscription/etape/contact",
                "/inscription/etape/identite", "/inscription/"):
        response = client.get(url, follow_redirects=True)
        page = text(response)
        assert response.status_code == 200 and response.request.path == "/inscription/confirmation", url
        assert "1-0" in page and "Certaines informations manquent" not in page
    # "Nouvelle inscription" frees the computer for the next pupil.
    assert post(client, "/inscription/confirmation", {}).status_code == 405
    token = csrf_from(client.get("/inscription/confirmation").get_data(as_text=True))
    client.post("/inscription/nouvelle", data={"csrf_token": token})
    page = client.get("/inscription/etape/identite")
    assert page.status_code == 200 and "Lefèvre" not in text(page) and "Étape 1 sur 5" in text(page)
