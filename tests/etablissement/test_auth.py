"""Login, logout and the tracking-service passwords."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.models import AuditEvent, Etablissement
from portal.services import passwords
from tests.conftest import STRONG_PASSWORD

from .conftest import reload

NEW_PASSWORD = "Trois pommes vertes sous la pluie"


def audit_actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_login_with_code_and_password_opens_the_dashboard(client, etab, login_etablissement):
    response = login_etablissement(etab, STRONG_PASSWORD)
    assert response.status_code == 302
    page = client.get("/etablissement/")
    assert page.status_code == 200
    assert "Lycée Jean Moulin" in page.text
    events = audit_actions("etablissement.connexion")
    assert [e.outcome for e in events] == ["succes"]
    assert events[0].etablissement_code == etab.code


def test_wrong_password_and_unknown_code_get_the_same_message(client, etab, login_etablissement):
    wrong = client.post("/etablissement/connexion", data={"code": etab.code, "password": "pas le bon mot de passe"})
    unknown = client.post("/etablissement/connexion", data={"code": "0000000Z", "password": "pas le bon mot de passe"})
    assert wrong.status_code == unknown.status_code == 200
    message = "Code établissement ou mot de passe incorrect."
    assert message in wrong.text and message in unknown.text
    assert client.get("/etablissement/").status_code == 302
    assert [e.outcome for e in audit_actions("etablissement.connexion")] == ["echec", "echec"]


def test_sixth_attempt_is_refused_even_with_the_right_password(client, etab, login_etablissement):
    for _ in range(5):
        response = client.post("/etablissement/connexion", data={"code": etab.code, "password": "mauvais"})
        assert response.status_code == 200
    blocked = login_etablissement(etab, STRONG_PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text
    assert client.get("/etablissement/").status_code == 302
    assert audit_actions("etablissement.connexion")[-1].outcome == "refus"
    limiter.reset()  # the window lifts by itself; the test does not wait 15 minutes
    assert login_etablissement(etab, STRONG_PASSWORD).status_code == 302
    assert client.get("/etablissement/").status_code == 200


def test_limit_is_kept_per_code_from_another_address(app, etab, login_etablissement):
    client = app.test_client()
    for _ in range(5):
        client.post("/etablissement/connexion", data={"code": etab.code, "password": "mauvais"})
    other = app.test_client()
    response = other.post("/etablissement/connexion", data={"code": etab.code, "password": STRONG_PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 302  # another school's address is not locked out


def test_window_lifts_by_itself(client, etab, login_etablissement):
    import time_machine
    from datetime import datetime, timedelta, timezone

    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            client.post("/etablissement/connexion", data={"code": etab.code, "password": "mauvais"})
        assert login_etablissement(etab, STRONG_PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert login_etablissement(etab, STRONG_PASSWORD).status_code == 302


def test_logout_kills_a_copied_cookie(app, client, etab, login_etablissement):
    login_etablissement(etab, STRONG_PASSWORD)
    copy = app.test_client()
    cookie = client.get_cookie("session")
    copy.set_cookie("session", cookie.value)
    assert copy.get("/etablissement/").status_code == 200
    response = client.post("/etablissement/deconnexion")
    assert response.status_code == 302
    assert client.get("/etablissement/").status_code == 302
    replay = copy.get("/etablissement/")
    assert replay.status_code == 302 and "/etablissement/connexion" in replay.headers["Location"]
    assert len(audit_actions("etablissement.deconnexion")) == 1


def test_logout_is_not_possible_by_get(logged):
    assert logged.get("/etablissement/deconnexion").status_code == 405
    assert logged.get("/etablissement/").status_code == 200


# --- default password ------------------------------------------------------------------


@pytest.fixture
def default_etab(make_etablissement, bcp):
    return make_etablissement("0130009K", specialites=[bcp])


def test_default_password_leads_every_page_to_change_password(app, client, default_etab, login_etablissement):
    response = login_etablissement(default_etab)
    assert response.headers["Location"].endswith("/etablissement/mot-de-passe")
    allowed = {"etablissement.login", "etablissement.change_password", "etablissement.logout"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("etablissement.") and rule.endpoint not in allowed:
            url = rule.rule.replace("<kind>", "alphabetique")
            method = "GET" if "GET" in rule.methods else "POST"
            got = client.open(url, method=method)
            assert got.status_code == 302, url
            assert got.headers["Location"].endswith("/etablissement/mot-de-passe"), url
    assert client.get("/etablissement/mot-de-passe").status_code == 200


@pytest.mark.parametrize("new, message", [
    ("court", "au moins 12 caractères"),
    ("azerty123456", "trop courant"),
    ("0130009K", "au moins 12 caractères"),  # the code: codes are always too short
    ("motdepasse12", "trop courant"),
])
def test_weak_new_passwords_are_refused(client, default_etab, login_etablissement, new, message):
    login_etablissement(default_etab)
    response = client.post("/etablissement/mot-de-passe", data={
        "current_password": default_etab.code, "new_password": new, "confirmation": new})
    assert response.status_code == 200
    assert message in response.text
    assert reload(default_etab).suivi_password_default is True


def test_current_password_is_required_and_failure_is_audited(logged, etab):
    response = logged.post("/etablissement/mot-de-passe", data={
        "current_password": "pas le bon", "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert "Le mot de passe actuel est incorrect." in response.text
    assert passwords.verify_password(reload(etab).suivi_password_hash, STRONG_PASSWORD)
    assert [e.outcome for e in audit_actions("etablissement.mot_de_passe_suivi")] == ["echec"]


def test_previous_password_is_refused(logged, etab):
    response = logged.post("/etablissement/mot-de-passe", data={
        "current_password": STRONG_PASSWORD, "new_password": STRONG_PASSWORD, "confirmation": STRONG_PASSWORD})
    assert "différent de l&#39;actuel" in response.text


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, default_etab, login_etablissement):
    other = app.test_client()
    login_etablissement(default_etab, http=other)
    login_etablissement(default_etab)
    response = client.post("/etablissement/mot-de-passe", data={
        "current_password": default_etab.code, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/etablissement/").status_code == 200
    assert other.get("/etablissement/mot-de-passe").headers["Location"].endswith("/etablissement/connexion")
    etab = reload(default_etab)
    assert etab.suivi_password_default is False
    assert passwords.verify_password(etab.suivi_password_hash, NEW_PASSWORD)
    assert [e.outcome for e in audit_actions("etablissement.mot_de_passe_suivi")] == ["succes"]
    # and the new password works for a fresh login
    fresh = app.test_client()
    assert login_etablissement(etab, NEW_PASSWORD, http=fresh).headers["Location"].endswith("/etablissement/")


def test_registration_password_change_closes_opened_computers(logged, etab):
    token = etab.inscription_token
    response = logged.post("/etablissement/mot-de-passe-inscription", data={
        "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert response.status_code == 302
    changed = reload(etab)
    assert changed.inscription_password_default is False
    assert passwords.verify_password(changed.inscription_password_hash, NEW_PASSWORD)
    assert changed.inscription_token != token
    assert len(audit_actions("etablissement.mot_de_passe_inscription")) == 1


def test_registration_password_change_requires_the_tracking_password(logged, etab):
    token = etab.inscription_token
    response = logged.post("/etablissement/mot-de-passe-inscription", data={
        "current_password": STRONG_PASSWORD + "x", "new_password": NEW_PASSWORD,
        "confirmation": NEW_PASSWORD})
    assert response.status_code == 200
    assert "Le mot de passe actuel du service de suivi est incorrect." in response.text
    unchanged = reload(etab)
    assert unchanged.inscription_password_default is True and unchanged.inscription_token == token
    assert passwords.verify_password(unchanged.inscription_password_hash, etab.code)
    assert [e.outcome for e in audit_actions("etablissement.mot_de_passe_inscription")] == ["echec"]
    missing = logged.post("/etablissement/mot-de-passe-inscription", data={
        "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert "Saisissez le mot de passe actuel du service de suivi." in missing.text
    assert reload(etab).inscription_password_default is True


def test_registration_password_check_shares_the_login_throttle(logged, etab):
    for _ in range(5):
        logged.post("/etablissement/mot-de-passe-inscription", data={
            "current_password": "faux", "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    blocked = logged.post("/etablissement/mot-de-passe-inscription", data={
        "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert blocked.status_code == 429 and "Trop de tentatives" in blocked.text
    assert reload(etab).inscription_password_default is True
    outcomes = [e.outcome for e in audit_actions("etablissement.mot_de_passe_inscription")]
    assert outcomes == ["echec"] * 5 + ["refus"]


def test_registration_password_cannot_be_the_code(logged, etab):
    response = logged.post("/etablissement/mot-de-passe-inscription", data={
        "current_password": STRONG_PASSWORD, "new_password": etab.code, "confirmation": etab.code})
    assert "au moins 12 caractères" in response.text
    assert reload(etab).inscription_password_default is True


def test_reset_passwords_restores_the_code(app, etab):
    from portal.services.etablissements import reset_passwords

    reset_passwords(etab)
    db.session.commit()
    found = db.session.scalar(select(Etablissement).where(Etablissement.code == etab.code))
    assert found.suivi_password_default and found.inscription_password_default
    assert passwords.verify_password(found.suivi_password_hash, etab.code)
