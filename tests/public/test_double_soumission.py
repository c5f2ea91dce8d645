"""A public candidate's final confirmation sent twice (double click, second tab, Back then
submit, a retried request) answers with the same registration and its number, and she stays
logged in; Back and reload after success show her registration (issue 15, points 4 and 6).
CSRF protection is on, as in production."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Inscription, InscriptionVersion
from tests.conftest import csrf_from
from tests.inscription.conftest import text
from tests.public.test_public_flow import PUBLIC_CONTACT, PUBLIC_IDENTITE, SECRET, catalogue  # noqa: F401

COOKIE = "session"


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def post(client, url: str, data: dict, page: str | None = None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def until_review(client, specialite, prefix="/public/inscription") -> str:
    for step, data in (("identite", PUBLIC_IDENTITE), ("contact", PUBLIC_CONTACT),
                       ("specialite", {"specialite": str(specialite.id)})):
        assert post(client, f"{prefix}/{step}", data).status_code == 302
    page = client.get(f"{prefix}/recapitulatif")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def confirm(client, token):
    return client.post("/public/inscription/recapitulatif",
                       data={"csrf_token": token, "secret": SECRET, "secret_confirmation": SECRET})


def count() -> int:
    return db.session.scalar(select(func.count(Inscription.id)))


def test_double_click_on_confirm_shows_the_same_number_and_keeps_her_logged_in(client, catalogue):  # noqa: F811
    token = until_review(client, catalogue["CAP"])
    before = client.get_cookie(COOKIE).value
    first = confirm(client, token)
    inscription = db.session.scalar(select(Inscription))
    mine = f"/public/inscriptions/{inscription.id}"
    assert first.headers["Location"].endswith(mine)
    logged_in_by_first = client.get_cookie(COOKIE).value
    # The second click left before the first answer came back: the cookie of before.
    client.set_cookie(COOKIE, before)
    second = confirm(client, token)
    assert second.status_code == 302 and second.headers["Location"].endswith(mine)
    page = client.get(mine)
    assert page.status_code == 200
    assert 'id="numero-inscription">1-0<' in text(page) and "déjà enregistrée sous le numéro 1-0" in text(page)
    assert count() == 1
    # A later visit of "Mon inscription" works with either answer's cookie.
    assert client.get(mine).status_code == 200
    client.set_cookie(COOKIE, logged_in_by_first)
    assert client.get(mine).status_code == 200


def test_back_then_confirm_again_shows_the_same_registration(client, catalogue):  # noqa: F811
    token = until_review(client, catalogue["CAP"])
    confirm(client, token)
    mine = f"/public/inscriptions/{db.session.scalar(select(Inscription.id))}"
    back = client.get("/public/inscription/recapitulatif")
    assert back.headers["Location"].endswith(mine)
    # The page kept by the browser, sent again: its token belonged to the session before
    # the login, yet the answer is her registration, not "le formulaire a expiré".
    again = confirm(client, token)
    assert again.status_code == 302 and again.headers["Location"].endswith(mine)
    page = client.get(mine)
    assert page.status_code == 200 and "1-0" in text(page) and "déjà enregistrée" in text(page)
    assert count() == 1


def test_back_or_reload_after_success_never_shows_an_empty_first_step(client, catalogue):  # noqa: F811
    confirm(client, until_review(client, catalogue["CAP"]))
    mine = f"/public/inscriptions/{db.session.scalar(select(Inscription.id))}"
    for url in ("/public/inscription/recapitulatif", "/public/inscription/specialite",
                "/public/inscription/identite"):
        response = client.get(url, follow_redirects=True)
        page = text(response)
        assert response.status_code == 200 and response.request.path == mine, url
        assert "1-0" in page and "Certaines informations manquent" not in page


def test_the_cookie_of_before_logs_nobody_in_once_she_logged_out(client, catalogue):  # noqa: F811
    token = until_review(client, catalogue["CAP"])
    before = client.get_cookie(COOKIE).value
    confirm(client, token)
    mine = f"/public/inscriptions/{db.session.scalar(select(Inscription.id))}"
    assert post(client, "/public/deconnexion", {}, page=mine).status_code == 302
    client.set_cookie(COOKIE, before)
    replay = client.post("/public/inscription/recapitulatif",
                         data={"csrf_token": token, "secret": SECRET, "secret_confirmation": SECRET},
                         follow_redirects=True)
    assert replay.request.path == "/public/connexion"
    assert client.get(mine).status_code == 302
    assert count() == 1


def test_double_click_on_a_modification_makes_one_new_version(client, catalogue):  # noqa: F811
    confirm(client, until_review(client, catalogue["CAP"]))
    inscription_id = db.session.scalar(select(Inscription.id))
    mine = f"/public/inscriptions/{inscription_id}"
    prefix = f"{mine}/modifier"
    assert post(client, prefix, {}, page=mine).status_code == 302
    assert post(client, f"{prefix}/contact", {**PUBLIC_CONTACT, "commune": "Villeurbanne"}).status_code == 302
    post(client, f"{prefix}/specialite", {"specialite": str(catalogue["CAP"].id)})
    token = csrf_from(client.get(f"{prefix}/recapitulatif").get_data(as_text=True))
    before = client.get_cookie(COOKIE).value
    assert client.post(f"{prefix}/recapitulatif", data={"csrf_token": token}).headers["Location"].endswith(mine)
    client.set_cookie(COOKIE, before)
    second = client.post(f"{prefix}/recapitulatif", data={"csrf_token": token})
    assert second.headers["Location"].endswith(mine)
    page = text(client.get(mine))
    assert 'id="numero-inscription">1-1<' in page and "déjà enregistrée" in page
    assert db.session.scalar(select(func.count(InscriptionVersion.id))) == 2
