"""Dashboard, establishments follow-up and the audit trail viewer."""
from __future__ import annotations

import base64
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Etablissement
from portal.services import audit
from portal.services.passwords import verify_password
from tests.conftest import STRONG_PASSWORD, now_paris_naive
from tests.gestionnaire.conftest import make_stale

IMG_RE = re.compile(r'<img[^>]*src="data:image/svg\+xml;base64,([^"]+)"[^>]*alt="([^"]+)"')


def test_dashboard_shows_server_drawn_charts_as_images_with_their_tables(
        gestionnaire_client, session_examen, make_specialite, make_etablissement, make_inscription):
    bts = make_specialite("BTS", libelle="Conception des processus")
    cap = make_specialite("CAP", libelle="Cuisine")
    etab = make_etablissement(specialites=[bts, cap])
    for _ in range(3):
        make_inscription(session_examen, bts, etab)
    make_inscription(session_examen, cap, etab, statut="annulee")
    make_inscription(session_examen, cap)
    response = gestionnaire_client.get("/gestionnaire/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    images = IMG_RE.findall(page)
    assert len(images) == 4  # campaign, exams, specialties, establishments (no pie chart: issue 15, point 21)
    svg = base64.b64decode(images[1][0]).decode("utf-8")  # the exams' bars (the first: the campaign)
    assert svg.startswith("<svg") and "Actives" in svg
    assert "pygal" not in page  # the chart SVG (and its script) only ever travels inside data URLs
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "4 inscriptions actives, 1 annulée" in page
    assert "Conception des processus" in page and "Candidats individuels" in page
    assert "data:" in response.headers["Content-Security-Policy"]


def test_dashboard_without_session_invites_to_create_one(gestionnaire_client, examens):
    page = gestionnaire_client.get("/gestionnaire/").get_data(as_text=True)
    assert "Aucune session courante" in page


def test_dashboard_figures_come_from_grouped_queries(session_examen, make_specialite, make_inscription):
    from portal.services import suivi

    spe = make_specialite("BCP")
    make_inscription(session_examen, spe)
    make_inscription(session_examen, spe, statut="annulee")
    [ligne] = [e for e in suivi.par_examen(session_examen) if e.code == "BCP"]
    assert (ligne.actives, ligne.annulees) == (1, 1)
    jours = suivi.par_jour(session_examen)
    assert len(jours) == 30 and jours[-1].actives == 2
    assert suivi.totaux(session_examen) == {"actives": 1, "annulees": 1}


def test_per_day_chart_counts_paris_days(session_examen, make_specialite, make_inscription):
    from portal.services import suivi

    spe = make_specialite("BCP")
    for moment in (datetime(2026, 3, 2, 23, 30),   # 3 March 00:30 in Paris (UTC+1): first day shown
                   datetime(2026, 3, 28, 22, 59),  # 28 March 23:59 in Paris
                   datetime(2026, 3, 28, 23, 30),  # 29 March 00:30 in Paris (still UTC+1)
                   datetime(2026, 3, 31, 21, 59),  # 31 March 23:59 in Paris (summer time, UTC+2)
                   datetime(2026, 3, 31, 22, 30),  # 1 April 00:30 in Paris
                   datetime(2026, 3, 31, 23, 30)):  # 1 April 01:30 in Paris
        make_inscription(session_examen, spe).created_at = moment
    outside = make_inscription(session_examen, spe)
    outside.created_at = datetime(2026, 3, 2, 22, 59)  # 2 March 23:59 in Paris: before the first day
    db.session.commit()
    jours = {ligne.code: ligne.actives for ligne in suivi.par_jour(session_examen, today=date(2026, 4, 1))}
    assert len(jours) == 30 and min(jours) == "2026-03-03"
    assert {code: n for code, n in jours.items() if n} == {
        "2026-03-03": 1, "2026-03-28": 1, "2026-03-29": 1, "2026-03-31": 1, "2026-04-01": 2}


# --- establishments ------------------------------------------------------------------


def test_establishments_table_shows_service_european_answer_passwords_and_counts(
        gestionnaire_client, session_examen, make_etablissement, make_specialite, make_inscription):
    bcp = make_specialite("BCP")
    cap = make_specialite("CAP")
    lycee = make_etablissement("0130001A", nom="Lycée Alpha", specialites=[bcp], service_ouvert=True,
                               password=STRONG_PASSWORD)
    make_etablissement("0130002B", nom="CFA Beta", specialites=[cap])
    make_inscription(session_examen, bcp, lycee)
    page = gestionnaire_client.get("/gestionnaire/etablissements").get_data(as_text=True)
    alpha = page[page.index("0130001A</a>"):].split("</tr>", 1)[0]
    beta = page[page.index("0130002B</a>"):].split("</tr>", 1)[0]
    assert "Non répondu" in alpha and "Sans objet" in beta
    assert re.findall(r"<td[^>]*>([^<]*)</td>", alpha)[-5:] == ["Oui", "Non répondu", "Non", "Oui", "1"]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", beta)[-5:] == ["Non", "Sans objet", "Oui", "Oui", "0"]


def test_establishments_filter_and_allow_listed_sort(gestionnaire_client, session_examen, make_etablissement):
    make_etablissement("0130001A", nom="Lycée Zola")
    make_etablissement("0130002B", nom="Lycée Ampère")
    make_etablissement("0690003C", nom="CFA Hugo")
    page = gestionnaire_client.get("/gestionnaire/etablissements?q=lycée&tri=nom").get_data(as_text=True)
    assert "CFA Hugo" not in page
    assert page.index("Lycée Ampère") < page.index("Lycée Zola")
    hostile = gestionnaire_client.get("/gestionnaire/etablissements?tri=nom;DROP TABLE etablissements&q=%25")
    assert hostile.status_code == 200
    assert db.session.scalar(select(Etablissement).where(Etablissement.code == "0690003C")) is not None
    assert "Aucun établissement" in hostile.get_data(as_text=True)  # "%" is a literal, not a wildcard


def test_establishment_page_lists_pupils_not_registered_and_registrations_out_of_the_base(
        gestionnaire_client, session_examen, examens, make_etablissement, make_specialite, make_eleve,
        make_inscription):
    spe = make_specialite("CAP")
    etab = make_etablissement(specialites=[spe])
    attente = make_eleve(etab, session_examen, examens["CAP"], nom="ATTENTE")
    inscrit = make_eleve(etab, session_examen, examens["CAP"], nom="INSCRIT")
    make_eleve(etab, session_examen, examens["CAP"], nom="PARTI", present=False)
    make_inscription(session_examen, spe, etab, eleve_id=inscrit.id)
    make_inscription(session_examen, spe, etab, hors_base=True, candidat={"nom_naissance": "HORSBASE"})
    page = gestionnaire_client.get(f"/gestionnaire/etablissements/{etab.code}").get_data(as_text=True)
    assert "ATTENTE" in page and "INSCRIT" not in page and "PARTI" not in page
    assert "HORSBASE" in page
    assert attente.ine in page


def test_unknown_establishment_gives_404(gestionnaire_client, session_examen):
    assert gestionnaire_client.get("/gestionnaire/etablissements/0000000X").status_code == 404
    assert gestionnaire_client.post("/gestionnaire/etablissements/0000000X/mots-de-passe",
                                    data={"confirmation": "oui"}).status_code == 404


def test_resetting_an_establishment_passwords_brings_back_the_code_and_ends_its_sessions(
        app, gestionnaire_client, make_etablissement, login_etablissement):
    etab = make_etablissement(password=STRONG_PASSWORD, inscription_password=STRONG_PASSWORD + "!")
    school = app.test_client()
    login_etablissement(etab, STRONG_PASSWORD, http=school)
    assert school.get("/etablissement/").status_code == 200
    response = gestionnaire_client.post(f"/gestionnaire/etablissements/{etab.code}/mots-de-passe",
                                        data={"confirmation": "oui"})
    assert response.status_code == 302
    db.session.refresh(etab)
    assert etab.suivi_password_default and etab.inscription_password_default
    assert verify_password(etab.suivi_password_hash, etab.code)
    assert verify_password(etab.inscription_password_hash, etab.code)
    assert school.get("/etablissement/").status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "etablissement.mots_de_passe_reinitialises"))
    assert event.actor_label == gestionnaire_client.compte.email and event.etablissement_code == etab.code


def test_password_reset_closes_an_open_registration_service(gestionnaire_client, make_etablissement):
    etab = make_etablissement(password=STRONG_PASSWORD)
    etab.service_ouvert = True
    db.session.commit()
    response = gestionnaire_client.post(f"/gestionnaire/etablissements/{etab.code}/mots-de-passe",
                                        data={"confirmation": "oui"})
    assert response.status_code == 302
    db.session.refresh(etab)
    assert etab.service_ouvert is False and etab.inscription_password_default
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "etablissement.mots_de_passe_reinitialises"))
    assert event.details == {"avant": {"service_ouvert": True}, "apres": {"service_ouvert": False}}


def test_password_reset_needs_confirmation_and_a_recent_login(gestionnaire_client, make_etablissement):
    etab = make_etablissement(password=STRONG_PASSWORD)
    gestionnaire_client.post(f"/gestionnaire/etablissements/{etab.code}/mots-de-passe", data={})
    db.session.refresh(etab)
    assert not etab.suivi_password_default
    make_stale(gestionnaire_client)
    response = gestionnaire_client.post(f"/gestionnaire/etablissements/{etab.code}/mots-de-passe",
                                        data={"confirmation": "oui"})
    assert response.headers["Location"].endswith("/gestionnaire/reauthentification")
    db.session.refresh(etab)
    assert not etab.suivi_password_default


# --- audit trail ---------------------------------------------------------------------


def _event(action, **kw):
    actor = {"type": "gestionnaire", "id": 1, "label": kw.pop("acteur", "alice@ac-test.fr")}
    event = audit.record(action, actor=actor, **kw)
    db.session.commit()
    return event


def test_audit_trail_filters_by_establishment_candidate_actor_action_and_date(
        gestionnaire_client, session_examen, make_specialite, make_inscription):
    spe = make_specialite("CAP")
    inscription = make_inscription(session_examen, spe, candidat={"nom_naissance": "DUPONTEL"})
    _event("etablissement.service_ouvert", etablissement_code="0130001A", objet_type="Etablissement", objet_id=1)
    _event("inscription.creee", objet_type="Inscription", objet_id=inscription.id, acteur="bob@ac-test.fr")
    _event("verrou.pose", objet_type="Verrou", objet_id="base")

    def rows(query: str) -> str:
        response = gestionnaire_client.get(f"/gestionnaire/journal?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True).split("<tbody>", 1)[1]

    assert "etablissement.service_ouvert" in rows("etablissement=0130001a")
    assert "verrou.pose" not in rows("etablissement=0130001A")
    assert "inscription.creee" in rows(f"candidat={inscription.numero}-0")
    assert "inscription.creee" in rows("candidat=dupont")
    assert "inscription.creee" not in rows("candidat=martin")
    by_bob = rows("acteur=bob")
    assert "inscription.creee" in by_bob and "verrou.pose" not in by_bob
    assert "verrou.pose" in rows("action=verrou.pose")
    # The journal's days are Paris days (between 23:00 and midnight UTC in winter, the next one).
    today = now_paris_naive().date().isoformat()
    assert "verrou.pose" in rows(f"du={today}&au={today}")
    assert "verrou.pose" not in rows("au=01/01/2020")


@pytest.mark.parametrize("query", ["page=²", "candidat=²", "candidat=99999999999999999999",
                                   "page=99999999999999999999"])
def test_audit_trail_survives_odd_numbers(gestionnaire_client, session_examen, query):
    # "²" is a digit to str.isdigit() but not to int(); huge numbers overflow the database's integers.
    response = gestionnaire_client.get(f"/gestionnaire/journal?{query}")
    assert response.status_code == (404 if query.startswith("page=9") else 200)


def test_audit_trail_rejects_a_malformed_date(gestionnaire_client, session_examen):
    response = gestionnaire_client.get("/gestionnaire/journal?du=hier")
    assert response.status_code == 400
    assert "Date invalide" in response.get_data(as_text=True)


def test_audit_trail_is_paginated_and_read_only(app, gestionnaire_client, session_examen):
    for n in range(55):
        _event("test.evenement", objet_type="Test", objet_id=n)
    first = gestionnaire_client.get("/gestionnaire/journal?action=test").get_data(as_text=True)
    second = gestionnaire_client.get("/gestionnaire/journal?action=test&page=2").get_data(as_text=True)
    assert first.count("test.evenement</td>") == 50 and second.count("test.evenement</td>") == 5
    assert 'href="/gestionnaire/journal?page=2&amp;action=test"' in first or "page=2" in first
    rules = [r for r in app.url_map.iter_rules() if "journal" in r.rule]
    assert all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)


@pytest.mark.parametrize("path", ["/gestionnaire/", "/gestionnaire/etablissements", "/gestionnaire/journal",
                                  "/gestionnaire/campagne", "/gestionnaire/laissez-passer"])
def test_follow_up_pages_need_a_manager_login(client, path):
    assert client.get(path).headers["Location"].endswith("/gestionnaire/connexion")
