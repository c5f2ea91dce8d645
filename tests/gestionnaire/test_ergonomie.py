"""The manager's way to the passes, and a dashboard to decide with (issue 15, points 14, 19, 21)."""
from __future__ import annotations

import html
import re

from tests.gestionnaire.test_passes import eleve_d  # noqa: F401 - fixture


def _links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'<a [^>]*href="([^"]+)"', page)]


# --- point 14: the passes are reachable ----------------------------------------------------


def test_passes_are_in_the_manager_menu(gestionnaire_client, session_examen):
    page = gestionnaire_client.get("/gestionnaire/").get_data(as_text=True)
    menu = re.search(r'<nav class="fr-nav" id="navigation-principale".*?</nav>', page, re.DOTALL).group(0)
    assert "/gestionnaire/laissez-passer" in _links(menu)
    passes = gestionnaire_client.get("/gestionnaire/laissez-passer").get_data(as_text=True)
    current = re.search(r'<a class="fr-nav__link" href="([^"]+)" aria-current="page">([^<]+)</a>', passes)
    assert current.groups() == ("/gestionnaire/laissez-passer", "Laissez-passer")


def test_an_establishment_page_links_to_its_passes_and_to_each_refused_pupil(
        gestionnaire_client, session_examen, examens, make_eleve, eleve_d):  # noqa: F811
    accepted = make_eleve(eleve_d.etablissement, session_examen, examens["CAP"], nom="FAVORABLE", decision="F")
    page = gestionnaire_client.get("/gestionnaire/etablissements/0130001A").get_data(as_text=True)
    links = _links(page)
    assert "/gestionnaire/laissez-passer?etablissement=0130001A" in links
    pupil_link = f"/gestionnaire/laissez-passer?etablissement=0130001A&eleve={eleve_d.id}"
    assert pupil_link in links
    assert not any(f"eleve={accepted.id}" in link for link in links)
    # The link leads to the page showing that pupil, with the form granting the pass.
    target = gestionnaire_client.get(pupil_link)
    assert target.status_code == 200
    text = target.get_data(as_text=True)
    assert "REFUSE" in text and f'id="motif-{eleve_d.id}"' in text


def test_the_pupil_link_shows_only_that_pupil(gestionnaire_client, session_examen, examens, make_eleve,
                                              eleve_d):  # noqa: F811
    make_eleve(eleve_d.etablissement, session_examen, examens["CAP"], nom="AUTREREFUS", decision="D")
    page = gestionnaire_client.get(f"/gestionnaire/laissez-passer?etablissement=0130001A&eleve={eleve_d.id}")
    text = page.get_data(as_text=True)
    assert "REFUSE" in text and "AUTREREFUS" not in text
    assert 'id="eleve-choisi"' in text


# --- point 21: a dashboard to decide with ------------------------------------------------


def test_campaign_days_count_active_registrations_per_exam_and_paris_day(
        session_examen, examens, make_specialite, make_inscription, open_service):
    from datetime import date, datetime

    from portal.extensions import db
    from portal.services import suivi

    bcp, cap = make_specialite("BCP"), make_specialite("CAP")
    # The schools' campaign: 30 March to 5 April (Paris), the CAP closes on 2 April.
    open_service(session_examen, debut=datetime(2026, 3, 29, 22, 0), fin=datetime(2026, 4, 5, 21, 0))
    open_service(session_examen, examen=examens["CAP"], debut=datetime(2026, 3, 29, 22, 0),
                 fin=datetime(2026, 4, 2, 21, 0))
    for moment, specialite in ((datetime(2026, 3, 29, 22, 30), bcp),   # 30 March 00:30 in Paris
                               (datetime(2026, 3, 31, 21, 59), bcp),   # 31 March 23:59 in Paris
                               (datetime(2026, 3, 31, 22, 30), bcp),   # 1 April 00:30 in Paris
                               (datetime(2026, 3, 31, 10, 0), cap)):
        make_inscription(session_examen, specialite).created_at = moment
    make_inscription(session_examen, bcp, statut="annulee").created_at = datetime(2026, 3, 31, 10, 0)
    db.session.commit()

    campagnes = {c.code: c for c in suivi.campagne_par_jour(session_examen, today=date(2026, 4, 1))}
    assert set(campagnes) == {"BCP", "CAP"}  # the other exams: neither a row of their own nor a registration
    bac = campagnes["BCP"]
    assert (bac.debut, bac.fin) == (date(2026, 3, 30), date(2026, 4, 5))
    assert [(j.jour.day, j.inscrites, j.cumul, j.passe) for j in bac.jours] == [
        (30, 1, 1, True), (31, 1, 2, True), (1, 1, 3, True),
        (2, 0, 3, False), (3, 0, 3, False), (4, 0, 3, False), (5, 0, 3, False)]
    assert (bac.total, bac.derniers_jours, bac.jours_ecoules) == (3, 3, 3)  # the cancelled one left out
    assert (campagnes["CAP"].fin, len(campagnes["CAP"].jours), campagnes["CAP"].total) == (date(2026, 4, 2), 4, 1)


def test_share_of_each_pupil_base_registered_largest_first_late_ones_flagged(
        session_examen, examens, make_etablissement, make_specialite, make_eleve, make_inscription):
    from portal.services import suivi

    cap = make_specialite("CAP")
    alpha = make_etablissement("0130001A", nom="Lycée Alpha", specialites=[cap])
    beta = make_etablissement("0130002B", nom="Lycée Beta", specialites=[cap])
    a1, a2 = (make_eleve(alpha, session_examen, examens["CAP"]) for _ in range(2))
    b = [make_eleve(beta, session_examen, examens["CAP"]) for _ in range(4)]
    make_eleve(beta, session_examen, examens["CAP"], present=False)  # left the base: not counted
    make_inscription(session_examen, cap, alpha, eleve=a1)
    make_inscription(session_examen, cap, alpha, candidat={"ine": a2.ine})  # matched by INE, as the head's page
    make_inscription(session_examen, cap, beta, eleve=b[0])
    make_inscription(session_examen, cap, beta, eleve=b[1], statut="annulee")  # cancelled: not registered

    parts = suivi.part_base_inscrite(session_examen, avancement=0.5)
    assert [(p.code, p.base, p.inscrits, p.en_retard) for p in parts] == [
        ("0130001A", 2, 2, False), ("0130002B", 4, 1, True)]
    assert parts[1].part == 0.25
    assert not any(p.en_retard for p in suivi.part_base_inscrite(session_examen))  # no known progress


def test_dashboard_has_no_pie_chart_and_shows_the_campaign_and_the_late_schools(
        gestionnaire_client, session_examen, examens, make_etablissement, make_specialite, make_eleve,
        make_inscription, open_service):
    import base64
    from datetime import timedelta

    from portal.models import utcnow

    open_service(session_examen, debut=utcnow() - timedelta(days=10), fin=utcnow() + timedelta(days=10))
    cap = make_specialite("CAP", code="CAP777", libelle="Cuisine")
    late = make_etablissement("0130002B", nom="Lycée Lent", specialites=[cap])
    for _ in range(3):
        make_eleve(late, session_examen, examens["CAP"])
    make_inscription(session_examen, cap, late)
    page = gestionnaire_client.get("/gestionnaire/").get_data(as_text=True)
    assert 'id="par-statut"' not in page and "Inscriptions actives et annulées" not in page  # the pie is gone
    assert 'id="campagne"' in page and "CAP – Certificat d&#39;aptitude professionnelle" in page
    row = re.search(r'<tr class="portail-en-retard">.*?</tr>', page, re.DOTALL).group(0)
    assert "Lycée Lent (0130002B)" in row and "0 %" in row and "En retard" in row
    # Every chart can be hidden on a small screen, its table staying.
    assert page.count('class="fr-responsive-img portail-graphique"') == len(re.findall(r"<img ", page))
    # Bars labelled with names, not codes only.
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    svgs = [base64.b64decode(i).decode("utf-8") for i in images]
    assert any("Lycée Lent (0130002B)" in svg for svg in svgs)
    assert any("CAP CAP777 – Cuisine" in svg for svg in svgs)
    # Specialties grouped by exam in the table.
    assert re.search(r'<th scope="colgroup" colspan="3">CAP – Certificat d&#39;aptitude professionnelle</th>', page)
    # Days of the day table are Paris days.
    assert "heure de Paris" in page and "jours UTC" not in page
