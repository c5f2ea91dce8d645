"""Opening and closing the establishment's registration service; the European-section answer."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import passwords, verrou
from tests.conftest import STRONG_PASSWORD

from .conftest import reload


def count_audit(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def change_inscription_password(etab) -> None:
    """As if the head had already replaced the default registration-service password."""
    etab.inscription_password_hash = passwords.hash_password(STRONG_PASSWORD + " poste")
    etab.inscription_password_default = False
    db.session.commit()


def lock_database():
    verrou.acquire(acteur="gestionnaire@ac-test.fr", gestionnaire_id=None, motif="chargement")
    db.session.commit()


def test_bcp_establishment_must_answer_before_opening(logged, etab):
    response = logged.post("/etablissement/service/ouvrir", follow_redirects=True)
    assert "indiquez si votre établissement gère des sections européennes" in response.text
    assert reload(etab).service_ouvert is False
    assert count_audit("etablissement.service_ouvert") == 0


def test_default_registration_password_refuses_opening(logged, etab):
    logged.post("/etablissement/section-europeenne", data={"reponse": "non"})
    dashboard = logged.get("/etablissement/").text
    assert "changez le mot de passe du service d’inscription" in dashboard
    response = logged.post("/etablissement/service/ouvrir", follow_redirects=True)
    text = response.text.replace("&#39;", "'")
    assert "ne peut pas être ouvert : son mot de passe est encore le code" in text
    assert "Mot de passe inscription" in text
    refused = reload(etab)
    assert refused.service_ouvert is False and refused.service_change_at is None
    assert count_audit("etablissement.service_ouvert") == 0


def test_opening_works_once_the_registration_password_is_changed(logged, etab):
    logged.post("/etablissement/section-europeenne", data={"reponse": "non"})
    assert logged.post("/etablissement/mot-de-passe-inscription", data={
        "current_password": STRONG_PASSWORD, "new_password": STRONG_PASSWORD + " poste",
        "confirmation": STRONG_PASSWORD + " poste"}).status_code == 302
    assert "changez le mot de passe du service d’inscription" not in logged.get("/etablissement/").text
    assert logged.post("/etablissement/service/ouvrir").status_code == 302
    assert reload(etab).service_ouvert is True
    assert count_audit("etablissement.service_ouvert") == 1


def test_question_has_no_default_answer(logged):
    page = logged.get("/etablissement/section-europeenne")
    assert page.status_code == 200
    assert "checked" not in page.text
    response = logged.post("/etablissement/section-europeenne", data={})
    assert "Indiquez si vous gérez des sections européennes." in response.text


def test_answer_then_open_and_close_the_service(logged, etab):
    change_inscription_password(etab)
    assert logged.post("/etablissement/section-europeenne", data={"reponse": "oui"}).status_code == 302
    assert reload(etab).section_europeenne is True
    logged.post("/etablissement/service/ouvrir")
    assert reload(etab).service_ouvert is True
    page = logged.get("/etablissement/")
    assert "Ouvert" in page.text and "Fermer le service" in page.text
    logged.post("/etablissement/service/fermer")
    assert reload(etab).service_ouvert is False
    assert count_audit("etablissement.service_ouvert") == 1
    assert count_audit("etablissement.service_ferme") == 1
    assert count_audit("etablissement.section_europeenne") == 1


def test_answer_can_change_while_nobody_chose_the_section(logged, etab):
    logged.post("/etablissement/section-europeenne", data={"reponse": "oui"})
    logged.post("/etablissement/section-europeenne", data={"reponse": "non"})
    assert reload(etab).section_europeenne is False


def test_answer_is_frozen_once_a_candidate_chose_the_section(logged, etab, bcp, session_examen, make_inscription):
    logged.post("/etablissement/section-europeenne", data={"reponse": "oui"})
    make_inscription(session_examen, bcp, etab, section_europeenne=True)
    page = logged.get("/etablissement/section-europeenne")
    assert "ne peut plus être modifiée" in page.text
    response = logged.post("/etablissement/section-europeenne", data={"reponse": "non"})
    assert response.status_code == 200
    assert reload(etab).section_europeenne is True


def test_cancelled_european_candidate_does_not_freeze_the_answer(logged, etab, bcp, session_examen,
                                                                 make_inscription):
    logged.post("/etablissement/section-europeenne", data={"reponse": "oui"})
    make_inscription(session_examen, bcp, etab, section_europeenne=True, statut="annulee")
    logged.post("/etablissement/section-europeenne", data={"reponse": "non"})
    assert reload(etab).section_europeenne is False


def test_establishment_without_bcp_is_never_asked(client, make_etablissement, cap, login_etablissement):
    sans_bcp = make_etablissement("0130002B", password=STRONG_PASSWORD,
                                  inscription_password=STRONG_PASSWORD + " poste", specialites=[cap])
    login_etablissement(sans_bcp, STRONG_PASSWORD)
    assert "Section européenne" not in client.get("/etablissement/").text
    assert client.get("/etablissement/section-europeenne").status_code == 404
    client.post("/etablissement/service/ouvrir")
    assert reload(sans_bcp).service_ouvert is True


def test_locked_database_refuses_opening_with_503(logged, etab):
    change_inscription_password(etab)
    logged.post("/etablissement/section-europeenne", data={"reponse": "non"})
    lock_database()
    page = logged.get("/etablissement/")
    assert "verrouillée" in page.text
    response = logged.post("/etablissement/service/ouvrir")
    assert response.status_code == 503
    assert "verrouillée" in response.text
    assert reload(etab).service_ouvert is False
    assert count_audit("etablissement.service_ouvert") == 0


def test_dashboard_says_when_the_rectorate_keeps_the_service_closed(logged, session_examen):
    page = logged.get("/etablissement/")
    assert "n'a pas encore été ouvert par le rectorat" in page.text.replace("&#39;", "'")


def test_dashboard_shows_counts(logged, etab, bcp, cap, session_examen, make_inscription):
    make_inscription(session_examen, bcp, etab)
    make_inscription(session_examen, cap, etab)
    make_inscription(session_examen, cap, etab, statut="annulee")
    page = logged.get("/etablissement/")
    assert "inscriptions actives" in page.text
    assert ">2</h3>" in page.text and ">1</h3>" in page.text
