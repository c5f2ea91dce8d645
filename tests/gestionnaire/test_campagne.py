"""Sessions, the calendar of the registration services, and the database lock."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import PARIS
from portal.models import AuditEvent, Etablissement, Gestionnaire, OuvertureService, SessionExamen, Verrou, utcnow
from portal.services import DatabaseLocked, ServiceError, campagne, verrou
from portal.services.passwords import hash_password
from tests.conftest import STRONG_PASSWORD
from tests.gestionnaire.conftest import make_stale

SESSION_DATA = {"annee": "2028", "libelle": "Session 2028", "academie": "Académie de Lyon",
                "date_examen": "2028-06-12", "texte_accueil": "Bienvenue", "texte_confirmation": "Merci",
                "courante": "y"}


def _actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- sessions ------------------------------------------------------------------------


def test_creating_a_session_initialises_a_closed_calendar_for_both_services(gestionnaire_client, examens):
    response = gestionnaire_client.post("/gestionnaire/sessions/nouvelle", data=SESSION_DATA)
    assert response.status_code == 302
    session_examen = db.session.scalar(select(SessionExamen).where(SessionExamen.annee == 2028))
    assert session_examen.courante and session_examen.date_examen == date(2028, 6, 12)
    rows = db.session.scalars(select(OuvertureService).where(OuvertureService.session_id == session_examen.id)).all()
    assert sorted(r.service for r in rows) == ["etablissement", "public"]
    assert all(not r.ouvert and r.examen_id is None for r in rows)
    assert not campagne.etat_service(session_examen, "etablissement").ouvert
    assert "session.creee" in _actions() and "session.courante" in _actions()


@pytest.mark.parametrize("field, value, message", [
    ("annee", "deux mille", "Not a valid integer value"),
    ("annee", "1850", "entre 2000 et 2100"),
    ("date_examen", "31/02/2028", "Date invalide"),
    ("libelle", "", "obligatoire"),
])
def test_session_form_rejects_bad_input(gestionnaire_client, examens, field, value, message):
    response = gestionnaire_client.post("/gestionnaire/sessions/nouvelle", data={**SESSION_DATA, field: value})
    assert response.status_code == 200
    assert "Erreur :" in response.get_data(as_text=True)
    if message != "Not a valid integer value":
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SessionExamen)) == 0


def test_a_second_session_for_the_same_year_is_refused(gestionnaire_client, session_examen):
    response = gestionnaire_client.post("/gestionnaire/sessions/nouvelle", data={**SESSION_DATA, "annee": "2027"})
    assert "existe déjà" in response.get_data(as_text=True)


def test_exactly_one_session_is_current(gestionnaire_client, session_examen):
    gestionnaire_client.post("/gestionnaire/sessions/nouvelle", data={**SESSION_DATA, "courante": ""})
    nouvelle = db.session.scalar(select(SessionExamen).where(SessionExamen.annee == 2028))
    assert not nouvelle.courante
    assert gestionnaire_client.post(f"/gestionnaire/sessions/{nouvelle.id}/courante").status_code == 302
    db.session.expire_all()
    courantes = db.session.scalars(select(SessionExamen.annee).where(SessionExamen.courante.is_(True))).all()
    assert courantes == [2028]


def test_session_texts_are_edited_and_always_escaped(gestionnaire_client, session_examen):
    texte = "<script>alert(1)</script> & <b>gras</b>"
    response = gestionnaire_client.post(f"/gestionnaire/sessions/{session_examen.id}", data={
        **SESSION_DATA, "annee": "2027", "texte_confirmation": texte, "texte_accueil": "Accueil"})
    assert response.status_code == 302
    db.session.refresh(session_examen)
    assert session_examen.texte_confirmation == texte
    page = gestionnaire_client.get(f"/gestionnaire/sessions/{session_examen.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "session.modifiee"))
    assert event.details["apres"]["texte_confirmation"] == texte


def test_unknown_session_gives_404(gestionnaire_client, examens):
    assert gestionnaire_client.get("/gestionnaire/sessions/999").status_code == 404
    assert gestionnaire_client.post("/gestionnaire/sessions/999/courante").status_code == 404


# --- calendar ------------------------------------------------------------------------


def _paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_calendar_form_takes_paris_times_and_the_service_obeys_them_to_the_minute(gestionnaire_client,
                                                                                   session_examen):
    response = gestionnaire_client.post("/gestionnaire/calendrier/etablissement/global", data={
        "ouvert": "y", "debut": "2027-01-11T08:00", "fin": "2027-02-15T18:00", "fin_tardive": "2027-02-20T18:00"})
    assert response.status_code == 302
    row = campagne.find_ouverture(session_examen, "etablissement", None)
    assert row.debut == datetime(2027, 1, 11, 7, 0)  # 08:00 in Paris in winter is 07:00 UTC
    page = gestionnaire_client.get("/gestionnaire/calendrier").get_data(as_text=True)
    assert "n&#39;est pas encore ouvert" in page and "11/01/2027 à 08h00" in page
    with time_machine.travel(_paris(2027, 1, 11, 7, 59), tick=False):
        assert not campagne.etat_service(session_examen, "etablissement").ouvert
    with time_machine.travel(_paris(2027, 1, 11, 8, 0), tick=False):
        etat = campagne.etat_service(session_examen, "etablissement")
        assert etat.ouvert and not etat.tardif
    with time_machine.travel(_paris(2027, 2, 15, 18, 0), tick=False):
        assert campagne.etat_service(session_examen, "etablissement").tardif
    with time_machine.travel(_paris(2027, 2, 20, 18, 0), tick=False):
        assert not campagne.etat_service(session_examen, "etablissement").ouvert


def test_an_exam_row_narrows_the_global_window(gestionnaire_client, session_examen, examens):
    gestionnaire_client.post("/gestionnaire/calendrier/public/global", data={
        "ouvert": "y", "debut": "2027-01-11T08:00", "fin": "2027-03-01T18:00"})
    gestionnaire_client.post("/gestionnaire/calendrier/public/BTS", data={
        "ouvert": "y", "debut": "2027-01-11T08:00", "fin": "2027-01-20T12:00"})
    with time_machine.travel(_paris(2027, 1, 25, 10, 0), tick=False):
        assert campagne.etat_service(session_examen, "public", examens["CAP"]).ouvert
        assert not campagne.etat_service(session_examen, "public", examens["BTS"]).ouvert
    row = campagne.find_ouverture(session_examen, "public", examens["BTS"])
    assert gestionnaire_client.post(f"/gestionnaire/calendrier/lignes/{row.id}/supprimer").status_code == 302
    with time_machine.travel(_paris(2027, 1, 25, 10, 0), tick=False):
        assert campagne.etat_service(session_examen, "public", examens["BTS"]).ouvert
    assert "calendrier.modifie" in _actions() and "calendrier.supprime" in _actions()


@pytest.mark.parametrize("data, message", [
    ({"debut": "2027-02-01T08:00", "fin": "2027-01-01T08:00"}, "postérieure à l&#39;ouverture"),
    ({"debut": "2027-02-01T08:00", "fin": "2027-02-01T08:00"}, "postérieure à l&#39;ouverture"),
    ({"fin": "2027-02-01T08:00", "fin_tardive": "2027-01-01T08:00"}, "postérieure à la fermeture"),
    ({"fin_tardive": "2027-01-01T08:00"}, "suppose une date de fermeture"),
    ({"debut": "32/13/2027 25:00"}, "Date et heure invalides"),
    ({"debut": "demain"}, "Date et heure invalides"),
])
def test_calendar_rejects_invalid_windows(gestionnaire_client, session_examen, data, message):
    before = campagne.find_ouverture(session_examen, "etablissement", None)
    response = gestionnaire_client.post("/gestionnaire/calendrier/etablissement/global", data={"ouvert": "y", **data})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert campagne.find_ouverture(session_examen, "etablissement", None) is before is None


def test_french_typed_date_times_are_accepted(gestionnaire_client, session_examen):
    gestionnaire_client.post("/gestionnaire/calendrier/etablissement/global",
                             data={"ouvert": "y", "debut": "11/01/2027 08:00"})
    assert campagne.find_ouverture(session_examen, "etablissement", None).debut == datetime(2027, 1, 11, 7, 0)


@pytest.mark.parametrize("path", ["/gestionnaire/calendrier/courrier/global",
                                  "/gestionnaire/calendrier/public/XYZ"])
def test_unknown_service_or_exam_gives_404(gestionnaire_client, session_examen, path):
    assert gestionnaire_client.get(path).status_code == 404


def test_the_global_row_cannot_be_deleted(gestionnaire_client, session_examen, open_service):
    row = open_service(session_examen, "public")
    gestionnaire_client.post(f"/gestionnaire/calendrier/lignes/{row.id}/supprimer")
    assert db.session.get(OuvertureService, row.id) is not None


def test_calendar_without_current_session_sends_to_the_campaign_page(gestionnaire_client, examens):
    assert gestionnaire_client.get("/gestionnaire/calendrier").headers["Location"].endswith("/gestionnaire/campagne")


# --- lock ----------------------------------------------------------------------------


def test_lock_is_shown_on_every_manager_page_and_refused_writes_get_503(app, gestionnaire_client,
                                                                         make_etablissement,
                                                                         login_etablissement):
    etab = make_etablissement(password=STRONG_PASSWORD, inscription_password=STRONG_PASSWORD + " bis")
    school = app.test_client()
    login_etablissement(etab, STRONG_PASSWORD, http=school)
    response = gestionnaire_client.post("/gestionnaire/verrou", data={"motif": "Chargement des bases élèves"})
    assert response.status_code == 302
    page = gestionnaire_client.get("/gestionnaire/journal").get_data(as_text=True)
    assert "Base verrouillée" in page and gestionnaire_client.compte.email in page
    refused = school.post("/etablissement/service/ouvrir")
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    db.session.expire_all()
    assert db.session.get(Etablissement, etab.id).service_ouvert is False
    assert school.get("/etablissement/").status_code == 200  # reads still work
    assert gestionnaire_client.post("/gestionnaire/verrou/lever").status_code == 302
    assert school.post("/etablissement/service/ouvrir").status_code == 302
    assert {"verrou.pose", "verrou.leve"} <= set(_actions())


def test_holder_requests_push_the_expiry_back(gestionnaire_client):
    gestionnaire_client.post("/gestionnaire/verrou", data={"motif": ""})
    lock = db.session.get(Verrou, verrou.NOM)
    lock.expire_at = utcnow() + timedelta(seconds=30)
    db.session.commit()
    gestionnaire_client.get("/gestionnaire/campagne")
    db.session.expire_all()
    assert db.session.get(Verrou, verrou.NOM).expire_at > utcnow() + timedelta(minutes=5)


def test_expired_lock_frees_the_database_for_another_manager(app, gestionnaire_client, make_gestionnaire):
    gestionnaire_client.post("/gestionnaire/verrou", data={})
    with pytest.raises(DatabaseLocked):
        verrou.assert_writable()
    db.session.rollback()
    second = make_gestionnaire()
    with pytest.raises(ServiceError, match="déjà verrouillée"):
        verrou.acquire(acteur=second.email, gestionnaire_id=second.id, motif="")
    db.session.rollback()
    lock = db.session.get(Verrou, verrou.NOM)
    lock.expire_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert verrou.current() is None
    verrou.assert_writable()
    taken = verrou.acquire(acteur=second.email, gestionnaire_id=second.id, motif="reprise")
    db.session.commit()
    assert taken.acteur == second.email


def test_locking_needs_a_recent_login(gestionnaire_client):
    make_stale(gestionnaire_client)
    response = gestionnaire_client.post("/gestionnaire/verrou", data={},
                                        headers={"Referer": "http://localhost/gestionnaire/campagne"})
    assert response.headers["Location"].endswith("/gestionnaire/reauthentification")
    assert verrou.current() is None
    ok = gestionnaire_client.post("/gestionnaire/reauthentification", data={"password": STRONG_PASSWORD})
    assert ok.headers["Location"] == "/gestionnaire/campagne"


def test_second_lock_attempt_tells_who_holds_it(gestionnaire_client, app, make_gestionnaire):
    gestionnaire_client.post("/gestionnaire/verrou", data={})
    other = make_gestionnaire()
    http = app.test_client()
    http.post("/gestionnaire/connexion", data={"email": other.email, "password": STRONG_PASSWORD})
    page = http.post("/gestionnaire/verrou", data={}, follow_redirects=True).get_data(as_text=True)
    assert "déjà verrouillée par " + gestionnaire_client.compte.email in page
    assert verrou.current().gestionnaire_id == gestionnaire_client.compte.id


@pytest.mark.postgres
def test_two_managers_locking_at_once_exactly_one_wins(pg_app):
    comptes = [Gestionnaire(email=f"g{n}@ac-test.fr", nom=f"G{n}", role="gestionnaire",
                            password_hash=hash_password(STRONG_PASSWORD), must_change_password=False)
               for n in range(2)]
    db.session.add_all(comptes)
    verrou._ensure_row()  # the lock row exists, as after the first lock of an installation
    db.session.commit()
    ids = [(c.id, c.email) for c in comptes]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take(compte_id: int, email: str):
        with pg_app.app_context():
            barrier.wait()
            try:
                verrou.acquire(acteur=email, gestionnaire_id=compte_id, motif="")
                db.session.commit()
                outcomes.append("won")
            except ServiceError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take, args=pair) for pair in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused", "won"]
    db.session.expire_all()
    assert verrou.current().gestionnaire_id in {i for i, _ in ids}
