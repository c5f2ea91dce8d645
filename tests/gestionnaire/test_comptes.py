"""Manager accounts: login, passwords, re-authentication, administration."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.models import AuditEvent, Gestionnaire
from tests.conftest import STRONG_PASSWORD
from tests.gestionnaire.conftest import make_stale

NEW_PASSWORD = "Une autre phrase de passe 2027"


@pytest.fixture(autouse=True)
def _clear_throttle(app):
    limiter.reset()
    yield
    limiter.reset()


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_manager_logs_in_with_email_and_password_and_reaches_the_dashboard(client, make_gestionnaire,
                                                                           login_gestionnaire):
    compte = make_gestionnaire()
    response = login_gestionnaire(compte)
    assert response.status_code == 302 and response.headers["Location"].endswith("/gestionnaire/")
    page = client.get("/gestionnaire/")
    assert page.status_code == 200
    assert "Tableau de bord" in page.get_data(as_text=True)
    db.session.refresh(compte)
    assert compte.last_login_at is not None
    assert _events("gestionnaire.connexion")[-1].outcome == "succes"


def test_unknown_account_and_wrong_password_get_the_same_message(client, make_gestionnaire):
    compte = make_gestionnaire()
    wrong = client.post("/gestionnaire/connexion", data={"email": compte.email, "password": "pas le bon mot"})
    unknown = client.post("/gestionnaire/connexion", data={"email": "inconnu@ac-test.fr", "password": "pas le bon"})
    assert wrong.status_code == unknown.status_code == 200
    message = "Adresse électronique ou mot de passe incorrect."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert [e.outcome for e in _events("gestionnaire.connexion")] == ["echec", "echec"]


def test_deactivated_account_cannot_log_in(client, make_gestionnaire, login_gestionnaire):
    compte = make_gestionnaire(actif=False)
    response = login_gestionnaire(compte)
    assert response.status_code == 200
    assert "mot de passe incorrect" in response.get_data(as_text=True)


def test_login_is_throttled_even_with_the_right_password(client, make_gestionnaire, login_gestionnaire):
    compte = make_gestionnaire()
    for _ in range(5):
        assert login_gestionnaire(compte, "mauvais mot de passe").status_code == 200
    blocked = login_gestionnaire(compte)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    assert client.get("/gestionnaire/").status_code == 302
    assert _events("gestionnaire.connexion")[-1].outcome == "refus"


@pytest.mark.parametrize("target, expected", [
    ("/gestionnaire/journal", "/gestionnaire/journal"),
    ("https://evil.example/x", "/gestionnaire/"),
    ("//evil.example/x", "/gestionnaire/"),
])
def test_next_is_honoured_only_when_local(client, make_gestionnaire, target, expected):
    compte = make_gestionnaire()
    response = client.post(f"/gestionnaire/connexion?next={target}",
                           data={"email": compte.email, "password": STRONG_PASSWORD})
    assert response.headers["Location"] == expected


def test_protected_page_redirects_to_login_then_back(client, make_gestionnaire, login_gestionnaire):
    assert client.get("/gestionnaire/journal").headers["Location"].endswith("/gestionnaire/connexion")
    response = login_gestionnaire(make_gestionnaire())
    assert response.headers["Location"] == "/gestionnaire/journal"


def test_initial_password_must_be_changed_before_anything_else(client, make_gestionnaire, login_gestionnaire):
    compte = make_gestionnaire(must_change=True)
    login_gestionnaire(compte)
    assert client.get("/gestionnaire/").headers["Location"].endswith("/gestionnaire/mot-de-passe")
    page = client.get("/gestionnaire/mot-de-passe")
    assert "mot de passe initial" in page.get_data(as_text=True)
    response = client.post("/gestionnaire/mot-de-passe", data={
        "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.refresh(compte)
    assert compte.must_change_password is False
    assert client.get("/gestionnaire/").status_code == 200


@pytest.mark.parametrize("current, new, confirmation, message", [
    (STRONG_PASSWORD, "court", "court", "au moins 12 caractères"),
    (STRONG_PASSWORD, STRONG_PASSWORD, STRONG_PASSWORD, "différent de l&#39;actuel"),
    ("pas le bon mot de passe", NEW_PASSWORD, NEW_PASSWORD, "actuel est incorrect"),
    (STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "ne sont pas identiques"),
    (STRONG_PASSWORD, "gestionnaire1@ac-test.fr", "gestionnaire1@ac-test.fr", "identifiant connu"),
])
def test_weak_or_wrong_password_changes_are_refused(gestionnaire_client, current, new, confirmation, message):
    compte = gestionnaire_client.compte
    before = compte.password_hash
    response = gestionnaire_client.post("/gestionnaire/mot-de-passe", data={
        "current_password": current, "new_password": new, "confirmation": confirmation})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.refresh(compte)
    assert compte.password_hash == before


def test_password_change_ends_the_other_sessions_but_keeps_this_one(app, gestionnaire_client):
    compte = gestionnaire_client.compte
    other = app.test_client()
    other.post("/gestionnaire/connexion", data={"email": compte.email, "password": STRONG_PASSWORD})
    assert other.get("/gestionnaire/").status_code == 200
    response = gestionnaire_client.post("/gestionnaire/mot-de-passe", data={
        "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert response.status_code == 302
    assert gestionnaire_client.get("/gestionnaire/").status_code == 200
    assert other.get("/gestionnaire/").status_code == 302


def test_logout_kills_a_copied_session_cookie(app, gestionnaire_client):
    with gestionnaire_client.session_transaction() as sess:
        copied = dict(sess)
    assert gestionnaire_client.post("/gestionnaire/deconnexion").status_code == 302
    replay = app.test_client()
    with replay.session_transaction() as sess:
        sess.update(copied)
    assert replay.get("/gestionnaire/").status_code == 302
    assert _events("gestionnaire.deconnexion")


def test_logout_is_post_only(gestionnaire_client):
    assert gestionnaire_client.get("/gestionnaire/deconnexion").status_code == 405


# --- administration ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/gestionnaire/comptes", "/gestionnaire/comptes/nouveau"])
def test_plain_manager_cannot_reach_account_administration(gestionnaire_client, path):
    assert gestionnaire_client.get(path).status_code == 403


def test_plain_manager_menu_has_no_accounts_entry_but_admin_has(gestionnaire_client, admin_client):
    assert ">Comptes<" not in gestionnaire_client.get("/gestionnaire/").get_data(as_text=True)
    assert ">Comptes<" in admin_client.get("/gestionnaire/").get_data(as_text=True)


def test_admin_creates_an_account_that_must_change_its_password(admin_client):
    response = admin_client.post("/gestionnaire/comptes/nouveau", data={
        "email": "Nouvelle.Personne@AC-test.fr", "nom": "Nouvelle Personne", "role": "gestionnaire",
        "password": NEW_PASSWORD})
    assert response.status_code == 302
    compte = db.session.scalar(select(Gestionnaire).where(Gestionnaire.email == "nouvelle.personne@ac-test.fr"))
    assert compte is not None and compte.must_change_password and compte.role == "gestionnaire"
    event = _events("gestionnaire.cree")[-1]
    assert event.actor_label == admin_client.compte.email
    assert "password" not in str(event.details).lower() or event.details.get("password") is None


@pytest.mark.parametrize("data, message", [
    ({"email": "pas-une-adresse", "nom": "X", "role": "gestionnaire", "password": NEW_PASSWORD},
     "Adresse électronique invalide"),
    ({"email": "a@ac-test.fr", "nom": "X", "role": "gestionnaire", "password": "court"}, "au moins 12"),
    ({"email": "a@ac-test.fr", "nom": "", "role": "gestionnaire", "password": NEW_PASSWORD}, "obligatoire"),
    ({"email": "a@ac-test.fr", "nom": "X", "role": "superadmin", "password": NEW_PASSWORD}, "Not a valid choice"),
])
def test_account_creation_rejects_bad_input(admin_client, data, message):
    response = admin_client.post("/gestionnaire/comptes/nouveau", data=data)
    assert response.status_code == 200
    assert db.session.scalar(select(Gestionnaire).where(Gestionnaire.email == "a@ac-test.fr")) is None
    if message != "Not a valid choice":
        assert message in response.get_data(as_text=True)


def test_duplicate_account_is_refused(admin_client, make_gestionnaire):
    existing = make_gestionnaire()
    response = admin_client.post("/gestionnaire/comptes/nouveau", data={
        "email": existing.email, "nom": "Doublon", "role": "admin", "password": NEW_PASSWORD})
    assert "existe déjà" in response.get_data(as_text=True)


def test_deactivation_ends_the_sessions_of_the_account(app, admin_client, gestionnaire_client):
    target = gestionnaire_client.compte
    assert gestionnaire_client.get("/gestionnaire/").status_code == 200
    response = admin_client.post(f"/gestionnaire/comptes/{target.id}/desactiver")
    assert response.status_code == 302
    assert gestionnaire_client.get("/gestionnaire/").status_code == 302
    db.session.refresh(target)
    assert target.actif is False
    assert _events("gestionnaire.desactive")[-1].objet_id == str(target.id)
    admin_client.post(f"/gestionnaire/comptes/{target.id}/reactiver")
    db.session.refresh(target)
    assert target.actif is True


def test_admin_cannot_deactivate_themselves(admin_client):
    compte = admin_client.compte
    response = admin_client.post(f"/gestionnaire/comptes/{compte.id}/desactiver", follow_redirects=True)
    assert "propre compte" in response.get_data(as_text=True)
    db.session.refresh(compte)
    assert compte.actif is True


def test_unknown_account_gives_404(admin_client):
    assert admin_client.post("/gestionnaire/comptes/9999/desactiver").status_code == 404
    assert admin_client.get("/gestionnaire/comptes/9999/mot-de-passe").status_code == 404


def test_admin_resets_a_password_which_must_then_be_changed(app, admin_client, make_gestionnaire):
    target = make_gestionnaire()
    response = admin_client.post(f"/gestionnaire/comptes/{target.id}/mot-de-passe",
                                 data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.must_change_password
    other = app.test_client()
    other.post("/gestionnaire/connexion", data={"email": target.email, "password": NEW_PASSWORD})
    assert other.get("/gestionnaire/").headers["Location"].endswith("/gestionnaire/mot-de-passe")
    assert _events("gestionnaire.mot_de_passe_reinitialise")


def test_account_management_needs_a_recent_login(admin_client, make_gestionnaire):
    target = make_gestionnaire()
    make_stale(admin_client)
    response = admin_client.post(f"/gestionnaire/comptes/{target.id}/desactiver",
                                 headers={"Referer": "http://localhost/gestionnaire/comptes"})
    assert response.headers["Location"].endswith("/gestionnaire/reauthentification")
    db.session.refresh(target)
    assert target.actif is True
    wrong = admin_client.post("/gestionnaire/reauthentification", data={"password": "pas le bon mot"})
    assert "Mot de passe incorrect" in wrong.get_data(as_text=True)
    ok = admin_client.post("/gestionnaire/reauthentification", data={"password": STRONG_PASSWORD})
    assert ok.headers["Location"] == "/gestionnaire/comptes"
    assert admin_client.post(f"/gestionnaire/comptes/{target.id}/desactiver").status_code == 302
    db.session.refresh(target)
    assert target.actif is False


def test_stale_get_of_a_sensitive_page_returns_to_it_after_reauthentication(admin_client):
    make_stale(admin_client)
    response = admin_client.get("/gestionnaire/comptes/nouveau")
    assert response.headers["Location"].endswith("/gestionnaire/reauthentification")
    ok = admin_client.post("/gestionnaire/reauthentification", data={"password": STRONG_PASSWORD})
    assert ok.headers["Location"] == "/gestionnaire/comptes/nouveau"
    assert admin_client.get("/gestionnaire/comptes/nouveau").status_code == 200


# --- command line --------------------------------------------------------------------


def test_create_gestionnaire_command_creates_an_admin_who_must_change_password(runner):
    result = runner.invoke(args=["create-gestionnaire", "chef@ac-test.fr", "--nom", "Cheffe", "--role", "admin",
                                 "--mot-de-passe", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    compte = db.session.scalar(select(Gestionnaire).where(Gestionnaire.email == "chef@ac-test.fr"))
    assert compte.role == "admin" and compte.must_change_password


def test_create_gestionnaire_command_refuses_a_weak_password(runner):
    result = runner.invoke(args=["create-gestionnaire", "chef@ac-test.fr", "--nom", "Cheffe",
                                 "--mot-de-passe", "court"])
    assert result.exit_code != 0
    assert "au moins 12" in result.output
    assert db.session.scalar(select(Gestionnaire).where(Gestionnaire.email == "chef@ac-test.fr")) is None
