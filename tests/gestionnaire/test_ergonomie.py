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


# --- point 16: labelled buttons, buttons inside their column, wide tables on a phone ------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_every_page_loads_the_portal_stylesheet_and_the_error_summary_script(client, session_examen):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/css/portail.css">' in page
    assert '<script src="/static/js/resume-erreurs.js"></script>' in page
    for path, kind in (("/static/css/portail.css", "text/css"), ("/static/js/resume-erreurs.js", "javascript")):
        response = client.get(path)
        assert response.status_code == 200 and kind in response.headers["Content-Type"]
        response.close()
    assert "script-src 'self'" in client.get("/").headers["Content-Security-Policy"]


def test_secondary_columns_are_hidden_below_768_px_by_the_committed_stylesheet():
    css = (ROOT / "portal/static/css/portail.css").read_text(encoding="utf-8")
    rule = re.search(r"@media \(max-width: 47\.98em\) \{(.*?)\n\}", css, re.DOTALL).group(1)
    assert ".portail-col-large" in rule and ".portail-graphique" in rule and "display: none" in rule


def _hidden_header_and_cells_match(page: str) -> bool:
    """Each table hides as many header cells as it has columns hidden in a row."""
    table = re.search(r"<table>.*?</table>", page, re.DOTALL).group(0)
    head = re.search(r"<thead>.*?</thead>", table, re.DOTALL).group(0)
    first_row = re.search(r"<tbody>\s*<tr[^>]*>.*?</tr>", table, re.DOTALL).group(0)
    hidden = head.count('class="portail-col-large"')
    return hidden > 0 and first_row.count('class="portail-col-large"') == hidden


def test_wide_manager_tables_keep_their_key_columns_on_a_phone(gestionnaire_client, session_examen,
                                                                make_etablissement, open_service, examens):
    make_etablissement("0130001A", nom="Lycée Alpha")
    open_service(session_examen, examen=examens["CAP"])
    listing = gestionnaire_client.get("/gestionnaire/etablissements").get_data(as_text=True)
    assert _hidden_header_and_cells_match(listing)
    assert 'class="fr-table fr-table--multiline"' in listing  # long cells wrap instead of widening the table
    calendrier = gestionnaire_client.get("/gestionnaire/calendrier").get_data(as_text=True)
    assert _hidden_header_and_cells_match(calendrier)
    # The row's buttons stay inside their column: a small button group, labelled buttons.
    actions = re.search(r'<ul class="fr-btns-group fr-btns-group--sm fr-btns-group--icon-left">(.*?)</ul>',
                        calendrier, re.DOTALL).group(1)
    assert ">Modifier</a>" in actions and "fr-btn--icon-left fr-icon-delete-line\">Supprimer la ligne CAP" in actions


def test_an_icon_button_in_a_button_group_keeps_its_label(app):
    """The DSFR draws a button with an icon as a 40 px icon alone in a group without
    fr-btns-group--icon-left: "Télécharger la confirmation (PDF)" lost its label."""
    with app.test_request_context():
        html = app.jinja_env.from_string(
            '{% import "_macros.html" as ui %}{% call ui.button_group() %}<li>'
            '{{ ui.link_button("/pdf", "Télécharger la confirmation (PDF)", secondary=False, '
            'icon="fr-icon-download-line") }}</li>{% endcall %}').render()
    assert '<ul class="fr-btns-group fr-btns-group--icon-left fr-btns-group--inline-md">' in html
    assert ('<a class="fr-btn fr-btn--icon-left fr-icon-download-line" href="/pdf">'
            "Télécharger la confirmation (PDF)</a>") in html


# --- point 17: the upload form and the error summary -------------------------------------


def test_upload_form_reports_a_missing_file_in_the_portal_error_summary(gestionnaire_client, session_examen):
    form = gestionnaire_client.get("/gestionnaire/chargements").get_data(as_text=True)
    assert re.search(r'<form method="post" enctype="multipart/form-data" action="/gestionnaire/chargements" '
                     r"novalidate>", form)  # no browser bubble: the server's messages
    page = gestionnaire_client.post("/gestionnaire/chargements", data={"type": "eleves"}).get_data(as_text=True)
    summary = re.search(r'<div class="fr-alert fr-alert--error fr-mb-4w" id="resume-erreurs" tabindex="-1".*?</div>',
                        page, re.DOTALL).group(0)
    assert '<a href="#fichier">Fichier CSV : Choisissez un fichier CSV à déposer.</a>' in summary
    # The DSFR's upload error state (fr-input-group--error's bar overflowed a 360 px screen here).
    assert '<div class="fr-upload-group fr-upload-group--error" id="fichier-groupe">' in page
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="fichier"|<input[^>]*id="fichier"[^>]*aria-invalid="true"',
                     page)
